using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Proxy;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Hosting;

/// <summary>Vault references end to end on a real node: a certificate whose key is <c>{vault://…}</c> is presented in a
/// real TLS handshake with the key read from the environment (variables set in this process under unique names),
/// while the Admin API, <c>GET /config</c> and the logs show only the reference; a named <c>env</c> vault applies its
/// <c>config.prefix</c>; a reference that does not resolve leaves the certificate out (its SNI gets the default
/// certificate) and logs why, as Kong resolves it to an empty value.</summary>
public sealed class VaultReferenceTests : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gatehouse-vault-").FullName;
    private readonly LogCapture _logs = new();
    private readonly List<string> _variables = [];

    [Fact]
    public async Task A_declarative_certificate_key_reference_serves_TLS_and_GET_config_shows_the_reference()
    {
        var pair = TestCertificates.Ecdsa("CN=declared.test");
        var variable = Variable("DECL", pair.Key);
        var reference = "{vault://env/" + variable.ToLowerInvariant().Replace('_', '-') + "}";
        await using var host = await StartAsync(DatabaseKind.Off);
        using var admin = new HttpClient { BaseAddress = host.Addresses(ListenerKind.Admin)[0] };
        var config = new JsonObject
        {
            ["_format_version"] = "3.0",
            ["vaults"] = new JsonArray(new JsonObject { ["prefix"] = "decl-env", ["name"] = "env", ["config"] = new JsonObject { ["prefix"] = "GH_" } }),
            ["certificates"] = new JsonArray(new JsonObject
            {
                ["cert"] = pair.Cert, ["key"] = reference, ["snis"] = new JsonArray(new JsonObject { ["name"] = "declared.test" }),
            }),
        };
        var (status, body) = await AdminCalls.SendAsync(admin, HttpMethod.Post, "/config", config);
        Assert.True(status == 201, body?.ToJsonString());

        Assert.Equal("CN=declared.test", await PresentedAsync(host, "declared.test"));
        var (_, exported) = await AdminCalls.SendAsync(admin, HttpMethod.Get, "/config");
        var yaml = (string)exported!["config"]!;
        Assert.Contains(reference, yaml, StringComparison.Ordinal);
        Assert.Contains("decl-env", yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", yaml, StringComparison.Ordinal);
        AssertNoSecretLogged(pair.Key);
    }

    [Fact]
    public async Task A_named_vault_applies_its_prefix_and_an_unresolved_reference_falls_back_to_the_default_certificate_with_a_warning()
    {
        var named = TestCertificates.Rsa("CN=named.test");
        var prefix = "GH_VT_" + Guid.NewGuid().ToString("N")[..12].ToUpperInvariant() + "_";
        Variable(prefix + "SITE_KEY", named.Key, exact: true);
        await using var host = await StartAsync(DatabaseKind.Sqlite);
        using var admin = new HttpClient { BaseAddress = host.Addresses(ListenerKind.Admin)[0] };
        var (vault, _) = await AdminCalls.SendAsync(admin, HttpMethod.Post, "/vaults",
            new { prefix = "tls-env", name = "env", config = new { prefix = prefix.ToLowerInvariant() } });
        Assert.Equal(201, vault);
        var (ok, created) = await AdminCalls.SendAsync(admin, HttpMethod.Post, "/certificates",
            new { cert = named.Cert, key = "{vault://tls-env/site-key}", snis = new[] { "named.test" } });
        Assert.Equal(201, ok);
        Assert.Equal("{vault://tls-env/site-key}", (string?)created!["key"]);
        Assert.Equal("CN=named.test", await PresentedAsync(host, "named.test"));

        // a variable that is not set, and a vault that does not exist: accepted (Kong), resolved empty, logged
        var missing = "gh-vault-missing-" + Guid.NewGuid().ToString("N");
        var other = TestCertificates.Rsa("CN=missing.test");
        Assert.Equal(201, (await AdminCalls.SendAsync(admin, HttpMethod.Post, "/certificates",
            new { cert = other.Cert, key = "{vault://env/" + missing + "}", snis = new[] { "missing.test" } })).Status);
        Assert.Equal(201, (await AdminCalls.SendAsync(admin, HttpMethod.Post, "/certificates",
            new { cert = other.Cert, key = "{vault://nowhere/key}", snis = new[] { "nowhere.test" } })).Status);
        Assert.Equal("CN=default.test", await PresentedAsync(host, "missing.test"));
        Assert.Equal("CN=default.test", await PresentedAsync(host, "nowhere.test"));
        Assert.Equal("CN=named.test", await PresentedAsync(host, "named.test"));
        var warnings = _logs.Entries.Where(e => e.EventId.Id == 2005).Select(e => e.Message).ToList();
        Assert.Contains(warnings, m => m.Contains("{vault://env/" + missing + "}", StringComparison.Ordinal)
            && m.Contains($"environment variable {missing.ToUpperInvariant().Replace('-', '_')} is not set", StringComparison.Ordinal));
        Assert.Contains(warnings, m => m.Contains("could not find vault (nowhere)", StringComparison.Ordinal));
        Assert.Contains(_logs.Entries, e => e.EventId.Id == 1220 && e.Level == LogLevel.Error);
        AssertNoSecretLogged(named.Key);
    }

    private string Variable(string name, string value, bool exact = false)
    {
        var variable = exact ? name : $"GH_VAULT_{name}_{Guid.NewGuid():N}".ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, value);
        _variables.Add(variable);
        return variable;
    }

    private void AssertNoSecretLogged(string key)
    {
        var body = key.Split('\n')[1]; // a line of the key's base64
        Assert.DoesNotContain(_logs.Entries, e => e.Message.Contains(body, StringComparison.Ordinal));
    }

    private async Task<GatewayHost> StartAsync(DatabaseKind database)
    {
        var defaultPair = TestCertificates.Rsa("CN=default.test");
        await File.WriteAllTextAsync(Path.Combine(_dir, "cert.pem"), defaultPair.Cert);
        await File.WriteAllTextAsync(Path.Combine(_dir, "key.pem"), defaultPair.Key);
        var host = GatewayHost.Create(new GatehouseOptions
        {
            Prefix = _dir,
            ProxyListen = [ListenAddress.Parse("127.0.0.1:0 ssl")],
            AdminListen = [ListenAddress.Parse("127.0.0.1:0")],
            Database = database,
            SslCert = Path.Combine(_dir, "cert.pem"),
            SslCertKey = Path.Combine(_dir, "key.pem"),
            LogLevel = "debug",
            ProxyAccessLog = null,
        }, new GatewayHostOptions
        {
            ConfigureLogging = l => { l.ClearProviders(); _logs.Install(l); },
            ShutdownTimeout = TimeSpan.FromSeconds(5),
        });
        await host.StartAsync();
        return host;
    }

    private static async Task<string> PresentedAsync(GatewayHost host, string serverName)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, host.Addresses(ListenerKind.Proxy)[0].Port);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = serverName });
        return tls.RemoteCertificate!.Subject;
    }

    public ValueTask DisposeAsync()
    {
        foreach (var variable in _variables) Environment.SetEnvironmentVariable(variable, null);
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
        return ValueTask.CompletedTask;
    }
}
