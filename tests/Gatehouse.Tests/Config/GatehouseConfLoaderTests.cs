using Gatehouse.Config;

namespace Gatehouse.Tests.Config;

public sealed class GatehouseConfLoaderTests
{
    private static readonly Dictionary<string, string?> NoEnv = new();

    private static ConfLoadResult Load(string text, Dictionary<string, string?>? env = null) =>
        GatehouseConfLoader.LoadText(text, env ?? NoEnv);

    [Fact]
    public void EmptyConfGivesKongDefaults()
    {
        var o = Load("").Options!;
        Assert.Equal("0.0.0.0:8000", o.ProxyListen.Single().ToString());
        Assert.Equal("127.0.0.1:8001", o.AdminListen.Single().ToString());
        Assert.Empty(o.StatusListen);
        Assert.Equal(DatabaseKind.Sqlite, o.Database);
        Assert.Equal("notice", o.LogLevel);
        Assert.False(o.Wasm);
        Assert.Equal(["bundled", "user"], o.WasmFilters);
        Assert.True(o.InlineIo);
    }

    [Fact]
    public void InlineIoCanBeTurnedOff() => Assert.False(Load("inline_io = off").Options!.InlineIo);

    [Fact]
    public void WasmContextsPerVmAndMaxVmsAreRead()
    {
        var o = Load("wasm_contexts_per_vm = 256\nwasm_max_vms_per_filter = 8").Options!;
        Assert.Equal((256, 8), (o.WasmContextsPerVm, o.WasmMaxVmsPerFilter));
    }

    [Fact]
    public void ParsesKongConfSyntax()
    {
        var result = Load("""
            # a comment
            prefix = /tmp/gh   # trailing comment

            proxy_listen = 127.0.0.1:9000, 127.0.0.1:9443 ssl http2 reuseport
            ADMIN_LISTEN = off
            status_listen = 127.0.0.1:8100
            log_level = debug
            proxy_access_log = off
            headers = server_tokens, X-Kong-Upstream-Latency
            wasm = on
            wasm_filters = user
            declarative_config = /etc/kong.yml
            ssl_cert = /no/cert.pem
            ssl_cert_key = /no/key.pem
            """);
        Assert.Equal(["ssl_cert: file '/no/cert.pem' does not exist", "ssl_cert_key: file '/no/key.pem' does not exist"], result.Errors);
        var certDir = Directory.CreateTempSubdirectory().FullName;
        File.WriteAllText(Path.Combine(certDir, "c.pem"), "x");
        File.WriteAllText(Path.Combine(certDir, "k.pem"), "x");
        var o = Load($"""
            prefix = /tmp/gh   # trailing comment
            proxy_listen = 127.0.0.1:9000, 127.0.0.1:9443 ssl http2 reuseport
            ADMIN_LISTEN = off
            status_listen = 127.0.0.1:8100
            log_level = debug
            proxy_access_log = off
            headers = server_tokens, X-Kong-Upstream-Latency
            wasm = on
            wasm_filters = user
            declarative_config = /etc/kong.yml
            ssl_cert = {certDir}/c.pem
            ssl_cert_key = {certDir}/k.pem
            """).Options!;
        Assert.Equal("/tmp/gh", o.Prefix);
        Assert.Equal(2, o.ProxyListen.Count);
        Assert.True(o.ProxyListen[1].Ssl);
        Assert.True(o.ProxyListen[1].Http2);
        Assert.False(o.ProxyListen[0].Ssl);
        Assert.Empty(o.AdminListen);
        Assert.Equal(8100, o.StatusListen.Single().Port);
        Assert.Equal("debug", o.LogLevel);
        Assert.Null(o.ProxyAccessLog);
        Assert.Equal(ProxyHeaders.Server | ProxyHeaders.Via | ProxyHeaders.UpstreamLatency, ProxyHeaderTokens.ToFlags(o.Headers));
        Assert.True(o.Wasm);
        Assert.Equal(["user"], o.WasmFilters);
        Assert.Equal("/etc/kong.yml", o.DeclarativeConfig);
    }

    [Fact]
    public void EscapedHashIsKept()
    {
        var o = Load(@"declarative_config = /tmp/a\#b.yml").Options!;
        Assert.Equal("/tmp/a#b.yml", o.DeclarativeConfig);
    }

    [Theory]
    [InlineData("log_level = loud", "log_level:")]
    [InlineData("pg_port = 0", "pg_port: '0' is not a port (1-65535)")]
    [InlineData("database = mysql", "database:")]
    [InlineData("proxy_listen = nowhere", "proxy_listen:")]
    [InlineData("proxy_listen = 127.0.0.1:99999", "proxy_listen:")]
    [InlineData("headers = server_tokens, X-Bogus", "headers: invalid header token 'X-Bogus'")]
    [InlineData("wasm = maybe", "wasm:")]
    [InlineData("inline_io = sometimes", "inline_io:")]
    [InlineData("wasm_filters = off, user", "wasm_filters:")]
    [InlineData("wasm_contexts_per_vm = -1", "wasm_contexts_per_vm: '-1' is not a whole number of 0 or more")]
    [InlineData("wasm_max_vms_per_filter = 0", "wasm_max_vms_per_filter: '0' is not a whole number of 1 or more")]
    [InlineData("proxy_listen = 127.0.0.1:8443 ssl\nssl_cert = /some/cert.pem", "ssl_cert: ssl_cert and ssl_cert_key go together")]
    [InlineData("ssl_protocols = TLSv1.1 TLSv1.2", "ssl_protocols: 'TLSv1.1' is not supported by Gatehouse")]
    [InlineData("ssl_protocols = TLSv9", "ssl_protocols: 'TLSv9' is not a TLS protocol")]
    [InlineData("ssl_ciphers = ECDHE-RSA-AES128-SHA256", "ssl_ciphers: only used with ssl_cipher_suite = custom (ssl_cipher_suite is intermediate)")]
    [InlineData("ssl_cipher_suite = custom", "ssl_ciphers: ssl_cipher_suite = custom needs ssl_ciphers")]
    [InlineData("ssl_cipher_suite = custom\nssl_ciphers = RC4-MD5", "ssl_ciphers: cipher 'RC4-MD5' is not supported by Gatehouse")]
    [InlineData("ssl_cipher_suite = old", "ssl_cipher_suite: 'old' is not supported by Gatehouse")]
    [InlineData("ssl_cipher_suite = fips", "ssl_cipher_suite: 'fips' is not supported by Gatehouse")]
    [InlineData("ssl_cipher_suite = strong", "ssl_cipher_suite: Undefined cipher suite strong")]
    [InlineData("ssl_cipher_suite = modern\nssl_protocols = TLSv1.2", "ssl_cipher_suite: modern needs TLSv1.3 in ssl_protocols")]
    [InlineData("admin_ssl_cert = /some/cert.pem\nadmin_ssl_cert_key = /some/key.pem", "admin_ssl_cert: set, but no admin_listen entry has 'ssl'")]
    [InlineData("status_listen = 127.0.0.1:8100 ssl\nstatus_ssl_cert = /some/cert.pem", "status_ssl_cert: status_ssl_cert and status_ssl_cert_key go together")]
    [InlineData("just a line", "line 1:")]
    [InlineData("proxy_listen = 127.0.0.1:8000 reusport", "proxy_listen: unknown flag 'reusport' in '127.0.0.1:8000 reusport'")]
    [InlineData("admin_listen = 127.0.0.1:8001 default_server", "admin_listen: unknown flag 'default_server'")]
    [InlineData("status_listen = 127.0.0.1:8100 SSL", "status_listen: unknown flag 'SSL'")]
    [InlineData("proxy_listen = 127.0.0.1:8000 proxy_protocol=on", "proxy_listen: unknown flag 'proxy_protocol=on'")]
    [InlineData("proxy_listen = 127.0.0.1:8000 deferred", "proxy_listen: flag 'deferred' in '127.0.0.1:8000 deferred' is not supported by Gatehouse")]
    [InlineData("admin_listen = 127.0.0.1:8001 so_keepalive=on", "admin_listen: flag 'so_keepalive=on' in '127.0.0.1:8001 so_keepalive=on' is not supported by Gatehouse")]
    [InlineData("proxy_listen = 127.0.0.1:8000 backlog=lots", "proxy_listen: invalid flag 'backlog=lots'")]
    [InlineData("proxy_listen = 127.0.0.1:8000 backlog=0", "proxy_listen: invalid flag 'backlog=0'")]
    [InlineData("proxy_listen = 127.0.0.1:8000 ipv6only=yes", "proxy_listen: invalid flag 'ipv6only=yes'")]
    [InlineData("proxy_listen = 127.0.0.1:8000 ipv6only=on", "proxy_listen: flag 'ipv6only' in '127.0.0.1:8000 ipv6only=on' needs the IPv6 wildcard address [::]")]
    [InlineData("proxy_listen = 127.0.0.1:8000 ssl=on", "proxy_listen: unknown flag 'ssl=on'")]
    public void BadValuesAreErrorsNamingTheKey(string text, string expected)
    {
        var result = Load(text);
        Assert.False(result.IsValid);
        Assert.Null(result.Options);
        Assert.Contains(result.Errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void ListenFlagsKongDocumentsAreParsed()
    {
        var o = Load("proxy_listen = 0.0.0.0:8000 reuseport backlog=16384 bind, [::]:8001 ipv6only=off\nadmin_listen = 127.0.0.1:8001 http2").Options!;
        Assert.True(o.ProxyListen[0].ReusePort);
        Assert.Equal(16384, o.ProxyListen[0].Backlog);
        Assert.Null(o.ProxyListen[0].Ipv6Only);
        Assert.False(o.ProxyListen[1].Ipv6Only);
        Assert.Null(o.ProxyListen[1].Backlog);
        Assert.False(o.ProxyListen[1].ReusePort);
        Assert.True(o.AdminListen[0].Http2);
        Assert.True(Load("proxy_listen = 127.0.0.1:8000 proxy_protocol").Options!.ProxyListen[0].ProxyProtocol);
        Assert.False(o.ProxyListen[0].ProxyProtocol);
    }

    [Fact]
    public void EveryBadKeyIsReported()
    {
        var result = Load("log_level = loud\nwasm = maybe\n");
        Assert.Null(result.Options);
        Assert.Collection(result.Errors,
            e => Assert.StartsWith("log_level: 'loud' is not a log level (", e, StringComparison.Ordinal),
            e => Assert.Equal("wasm: 'maybe' is not a boolean (use on or off)", e));
    }

    [Fact]
    public void SlowClientTimeoutsTakeNginxTimesAndDefaultToNginxs()
    {
        var defaults = Load("").Options!;
        Assert.Equal(TimeSpan.FromSeconds(60), defaults.ClientHeaderTimeout);
        Assert.Equal(TimeSpan.FromSeconds(75), defaults.KeepaliveTimeout);
        var o = Load("nginx_http_client_header_timeout = 1500ms\nnginx_http_keepalive_timeout = 2m").Options!;
        Assert.Equal(TimeSpan.FromMilliseconds(1500), o.ClientHeaderTimeout);
        Assert.Equal(TimeSpan.FromMinutes(2), o.KeepaliveTimeout);
        Assert.Equal(TimeSpan.FromSeconds(7), Load("nginx_http_client_header_timeout = 7").Options!.ClientHeaderTimeout);
        foreach (var bad in new[] { "0", "-1s", "ten", "5d", "" })
            Assert.Contains(Load("nginx_http_client_header_timeout = " + bad).Errors, e => e.Contains("nginx_http_client_header_timeout", StringComparison.Ordinal));
    }

    [Fact]
    public void UnknownKeysStopTheStart() // they were warnings; the policy is in KongConfKeyPolicyTests
    {
        var result = Load("log_levle = warn\nlog_level = warn");
        Assert.False(result.IsValid);
        Assert.Equal(["line 1: unknown configuration key 'log_levle' (did you mean log_level?)"], result.Errors);
    }

    [Fact]
    public void Client_ssl_files_go_together_exist_and_need_client_ssl_on()
    {
        Assert.Equal(["client_ssl_cert: set, but client_ssl is off (nothing would present it)"],
            Load("client_ssl_cert = /nowhere/c.pem").Errors);
        Assert.Equal(["client_ssl_cert_key must be specified"], Load("client_ssl = on\nclient_ssl_cert = /nowhere/c.pem").Errors);
        Assert.Equal(["client_ssl_cert must be specified"], Load("client_ssl = on\nclient_ssl_cert_key = /nowhere/k.pem").Errors);
        Assert.StartsWith("client_ssl_cert: failed loading certificate from /nowhere/c.pem",
            Assert.Single(Load("client_ssl = on\nclient_ssl_cert = /nowhere/c.pem\nclient_ssl_cert_key = /nowhere/k.pem").Errors));
        var on = Load("client_ssl = on");
        Assert.True(on.IsValid && on.Options!.ClientSsl); // the self-signed default is presented
    }

    [Fact]
    public void EnvironmentOverridesFileAndGatehouseWinsOverKong()
    {
        var env = new Dictionary<string, string?>
        {
            ["KONG_LOG_LEVEL"] = "error",
            ["GATEHOUSE_LOG_LEVEL"] = "warn",
            ["KONG_ADMIN_LISTEN"] = "127.0.0.1:9001",
        };
        var o = Load("log_level = debug\nadmin_listen = off", env).Options!;
        Assert.Equal("warn", o.LogLevel);
        Assert.Equal(9001, o.AdminListen.Single().Port);
        Assert.Equal("warn", o.Raw["log_level"]);
    }

    [Fact]
    public void BadEnvironmentValueNamesTheKey()
    {
        var result = Load("", new Dictionary<string, string?> { ["GATEHOUSE_DATABASE"] = "mysql" });
        Assert.Equal(["database: 'mysql' is not a database (sqlite, postgres or off)"], result.Errors);
    }

    [Fact]
    public void WasmFiltersPathMustExistWhenWasmIsOn()
    {
        var result = Load("wasm = on\nwasm_filters_path = /definitely/not/here");
        Assert.Equal(["wasm_filters_path: '/definitely/not/here' is not a valid directory"], result.Errors);
        Assert.True(Load("wasm = off\nwasm_filters_path = /definitely/not/here").IsValid);
    }

    [Fact]
    public void HeadersOffMeansNone()
    {
        var o = Load("headers = off").Options!;
        Assert.Equal(ProxyHeaders.None, ProxyHeaderTokens.ToFlags(o.Headers));
    }

    [Fact]
    public void MissingFileIsAnError()
    {
        var result = GatehouseConfLoader.Load("/no/such/gatehouse.conf", NoEnv);
        Assert.False(result.IsValid);
        Assert.StartsWith("cannot read configuration file", result.Errors.Single());
    }
}
