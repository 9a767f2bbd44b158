using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Cli.CliRun;

namespace Gatehouse.Tests.Config;

/// <summary>
/// What gatehouse.conf does with a key it does not apply (KongOnlyConfKeys): a Kong 3.9 key stops the start unless
/// its value is the one Gatehouse behaves as or it has no effect outside OpenResty; Kong's injected nginx_* directives
/// stop it unless implemented; any other key is a typo and stops it with the nearest key. Same through start,
/// check and config parse; environment variables only for keys Kong reads from its environment.
/// </summary>
public sealed class KongConfKeyPolicyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gatehouse-conf-policy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ConfLoadResult Load(string text, Dictionary<string, string?>? env = null) =>
        GatehouseConfLoader.LoadText(text, env ?? new Dictionary<string, string?>());

    [Fact]
    public void A_Kong_key_Gatehouse_does_not_implement_stops_the_start_naming_it_and_what_to_do()
    {
        var result = Load("lua_ssl_verify_depth = 2\nanonymous_reports = on\nlog_level = warn\nssl_session_tickets = off");
        Assert.False(result.IsValid);
        Assert.Equal(
        [
            "lua_ssl_verify_depth: not supported by Gatehouse (certificate chains are not limited in depth); remove it",
            "anonymous_reports: 'on' is not supported by Gatehouse (Gatehouse sends no usage reports); remove it or set it to 'off'",
            "ssl_session_tickets: not supported by Gatehouse (" + "the TLS listeners do not resume sessions: .NET's OpenSSL server keeps no session " +
                "cache and issues no tickets once a cipher suite policy (ssl_cipher_suite) is applied); remove it",
        ], result.Errors);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void A_Kong_key_set_to_the_value_Gatehouse_behaves_as_is_accepted()
    {
        var result = Load("""
            nginx_daemon = off
            lua_ssl_trusted_certificate = system
            trusted_ips = NONE
            router_flavor = traditional_compatible
            ssl_prefer_server_ciphers = on
            ssl_dhparam =
            anonymous_reports = false
            nginx_user = kong  kong
            lua_ssl_protocols = TLSv1.2 TLSv1.3
            ssl_protocols = TLSv1.3
            """);
        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        Assert.Empty(result.Warnings);
        // the implemented key beside them is applied
        Assert.Equal(System.Security.Authentication.SslProtocols.Tls13, result.Options!.SslProtocols);
    }

    [Fact]
    public void A_Kong_key_without_effect_outside_OpenResty_takes_any_value()
    {
        var result = Load("lua_package_path = /opt/?.lua\nnginx_worker_processes = 4\nresolver_address = 10.0.0.1\ncluster_mtls = pki");
        Assert.True(result.IsValid, string.Join("; ", result.Errors));
    }

    [Fact]
    public void An_unknown_key_is_a_typo_that_stops_the_start_naming_the_closest_key()
    {
        var result = Load("ssl_protocol = TLSv1.3\nlog_level = warn\nproxy_lisen = 127.0.0.1:8000\nlua_ssl_verify_dept = 1\nfrobnicate = yes");
        Assert.Equal(
        [
            "line 1: unknown configuration key 'ssl_protocol' (did you mean ssl_protocols?)",
            "line 3: unknown configuration key 'proxy_lisen' (did you mean proxy_listen?)",
            "line 4: unknown configuration key 'lua_ssl_verify_dept' (did you mean lua_ssl_verify_depth?)",
            "line 5: unknown configuration key 'frobnicate'",
        ], result.Errors);
    }

    [Fact]
    public void Injected_nginx_directives_stop_the_start_unless_Gatehouse_implements_them()
    {
        var result = Load("nginx_http_gzip = on\nnginx_proxy_proxy_buffering = off\nvault_hcv_host = vault.test\nnginx_http_keepalive_timeout = 10s");
        Assert.Collection(result.Errors,
            e => Assert.StartsWith("nginx_http_gzip: not supported by Gatehouse (an nginx directive Kong injects;", e, StringComparison.Ordinal),
            e => Assert.StartsWith("nginx_proxy_proxy_buffering: not supported by Gatehouse (an nginx directive Kong injects;", e, StringComparison.Ordinal),
            e => Assert.Equal("vault_hcv_host: not supported by Gatehouse (Gatehouse has the env vault only, whose one key is vault_env_prefix); remove it", e));
        Assert.EndsWith("remove it (did you mean nginx_worker_processes?)",
            Assert.Single(Load("nginx_worker_processe = 2").Errors), StringComparison.Ordinal);
        // NONE: Kong injects nothing, as if unset
        Assert.True(Load("nginx_http_gzip = NONE\nnginx_proxy_proxy_buffering =").IsValid);
        var implemented = Load("nginx_http_keepalive_timeout = 10s\nnginx_admin_client_max_body_size = 1m");
        Assert.True(implemented.IsValid, string.Join("; ", implemented.Errors));
        Assert.Equal(TimeSpan.FromSeconds(10), implemented.Options!.KeepaliveTimeout);
    }

    /// <summary>Kong reads from its environment its own keys and those under its directive prefixes; any other
    /// KONG_*/GATEHOUSE_* variable is no setting and stays ignored.</summary>
    [Fact]
    public void Environment_variables_follow_the_same_policy_for_the_keys_Kong_reads_and_others_are_ignored()
    {
        var refused = Load("", new Dictionary<string, string?>
        {
            ["KONG_NGINX_HTTP_GZIP"] = "on",
            ["KONG_LUA_SSL_VERIFY_DEPTH"] = "2",
            ["GATEHOUSE_ROLE"] = "data_plane",
        });
        Assert.Equal(3, refused.Errors.Count);
        Assert.Contains(refused.Errors, e => e.StartsWith("nginx_http_gzip: not supported by Gatehouse", StringComparison.Ordinal));
        Assert.Contains(refused.Errors, e => e.StartsWith("lua_ssl_verify_depth: not supported by Gatehouse", StringComparison.Ordinal));
        Assert.Contains(refused.Errors, e => e.StartsWith("role: 'data_plane' is not supported by Gatehouse", StringComparison.Ordinal));

        var accepted = Load("", new Dictionary<string, string?>
        {
            ["KONG_NGINX_WORKER_PROCESSES"] = "2",
            ["KONG_NGINX_DAEMON"] = "off",
            ["KONG_VERSION"] = "3.9.0", // set by Kong's images: no key
            ["GATEHOUSE_NOT_A_KEY"] = "x",
            ["KONG_NGINX_HTTP_KEEPALIVE_TIMEOUT"] = "5s",
        });
        Assert.True(accepted.IsValid, string.Join("; ", accepted.Errors));
        Assert.Equal(TimeSpan.FromSeconds(5), accepted.Options!.KeepaliveTimeout);
    }

    /// <summary>Each row of the table behaves as its class says.</summary>
    [Fact]
    public void Every_Kong_only_key_behaves_as_its_class()
    {
        Assert.DoesNotContain(KongOnlyConfKeys.All.Keys, ConfKeys.All.ContainsKey);
        foreach (var key in KongOnlyConfKeys.All.Values)
        {
            var other = Load($"{key.Name} = surely-not-a-value");
            switch (key.Kind)
            {
                case KongOnlyKind.NoEffect:
                    Assert.True(other.IsValid, key.Name);
                    break;
                case KongOnlyKind.OnlyValue:
                    Assert.True(Load($"{key.Name} = {key.Values[0]}").IsValid, key.Name);
                    Assert.Equal([$"{key.Name}: 'surely-not-a-value' is not supported by Gatehouse ({key.Reason}); remove it or set it to " +
                        (key.Values[0].Length == 0 ? "NONE" : $"'{key.Values[0]}'")], other.Errors);
                    break;
                default:
                    Assert.Equal([$"{key.Name}: not supported by Gatehouse ({key.Reason}); remove it"], other.Errors);
                    break;
            }
        }
    }

    [Fact]
    public async Task Start_check_and_config_parse_report_the_same_errors()
    {
        var conf = Path.Combine(_dir, "gatehouse.conf");
        File.WriteAllText(conf, $"""
            prefix = {Path.Combine(_dir, "prefix")}
            proxy_listen = 127.0.0.1:{EchoUpstream.FreePort()}
            admin_listen = off
            database = off
            ssl_protocol = TLSv1.3
            lua_ssl_verify_depth = 2
            """);
        var expected = new[]
        {
            "error: line 5: unknown configuration key 'ssl_protocol' (did you mean ssl_protocols?)",
            "error: lua_ssl_verify_depth: not supported by Gatehouse (certificate chains are not limited in depth); remove it",
        };
        var (startCode, _, startErr) = await GatewayProcess.RunToExitAsync("start", "-c", conf);
        var (checkCode, _, checkErr) = await RunAsync("check", conf);
        var kongYml = Path.Combine(_dir, "kong.yml");
        File.WriteAllText(kongYml, "_format_version: \"3.0\"\n");
        var (parseCode, _, parseErr) = await RunAsync("config", "parse", kongYml, "-c", conf);
        foreach (var (code, err) in new[] { (startCode, startErr), (checkCode, checkErr), (parseCode, parseErr) })
        {
            Assert.Equal(1, code);
            var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.Equal(expected, lines.Where(l => l.StartsWith("error: ", StringComparison.Ordinal)).ToArray());
            Assert.DoesNotContain("warning", err, StringComparison.Ordinal);
        }
    }
}
