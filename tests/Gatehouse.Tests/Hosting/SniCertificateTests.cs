using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Config;
using Gatehouse.Model;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using static Gatehouse.Tests.Infrastructure.TestConfig;

namespace Gatehouse.Tests.Hosting;

/// <summary>Kong's certificate phase on a real TLS proxy listener: the certificate presented is the one of the SNI
/// entity matching the client's server name (exact, then <c>*.</c> prefix, then <c>.*</c> suffix), else ssl_cert; a
/// published change applies to the next handshake without a restart.</summary>
public sealed class SniCertificateTests : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gatehouse-sni-").FullName;

    [Fact]
    public async Task The_handshake_presents_the_certificate_of_the_matching_sni_and_follows_changes()
    {
        var (cert, key) = await TlsTestHosts.WriteDefaultCertificateAsync(_dir);
        await using var gateway = await GatewayFixture.StartAsync(configure: o => o with
        {
            ProxyListen = [ListenAddress.Parse("127.0.0.1:0 ssl")],
            SslCert = cert,
            SslCertKey = key,
        });
        var exact = Certificate(TestCertificates.Rsa("CN=exact.test"));
        var wildcard = Certificate(TestCertificates.Ecdsa("CN=wildcard.test"));
        var suffix = Certificate(TestCertificates.Rsa("CN=suffix.test"));
        gateway.Publish(Of([], []) with
        {
            Certificates = [exact.Model, wildcard.Model, suffix.Model],
            Snis = [Sni("a.test", exact), Sni("*.wild.test", wildcard), Sni("shop.example.*", suffix)],
        });

        Assert.Equal("CN=exact.test", await PresentedAsync(gateway, "a.test"));
        Assert.Equal("CN=exact.test", await PresentedAsync(gateway, "A.Test"));
        Assert.Equal("CN=wildcard.test", await PresentedAsync(gateway, "x.wild.test"));
        Assert.Equal("CN=default.test", await PresentedAsync(gateway, "x.y.wild.test")); // one label only, as Kong
        Assert.Equal("CN=suffix.test", await PresentedAsync(gateway, "shop.example.org"));
        Assert.Equal("CN=default.test", await PresentedAsync(gateway, "other.test"));

        // Kong's DEFAULT_SNI: an SNI named "*" takes every server name the others do not match
        var catchAll = Certificate(TestCertificates.Rsa("CN=catch-all.test"));
        gateway.Publish(Of([], []) with
        {
            Certificates = [exact.Model, catchAll.Model],
            Snis = [Sni("a.test", exact), Sni("*", catchAll)],
        });
        Assert.Equal("CN=exact.test", await PresentedAsync(gateway, "a.test"));
        Assert.Equal("CN=catch-all.test", await PresentedAsync(gateway, "other.test"));

        // rotation: the same name now points at another certificate, served from the next handshake on
        var rotated = Certificate(TestCertificates.Ecdsa("CN=rotated.test"));
        gateway.Publish(Of([], []) with { Certificates = [rotated.Model], Snis = [Sni("a.test", rotated)] });
        Assert.Equal("CN=rotated.test", await PresentedAsync(gateway, "a.test"));
        Assert.Equal("CN=default.test", await PresentedAsync(gateway, "x.wild.test"));
    }

    /// <summary>Through the Admin API on SQLite: a certificate with an SNI is served to that name, and rotating it
    /// (PATCH cert and key) while clients keep handshaking fails no handshake; each one sees the old or the new.</summary>
    [Fact]
    public async Task Certificates_written_through_the_Admin_API_are_served_and_rotate_under_load_without_a_failed_handshake()
    {
        await using var host = await TlsTestHosts.StartOnSqliteAsync(_dir);
        var proxyPort = host.Addresses(Gatehouse.Proxy.ListenerKind.Proxy)[0].Port;
        using var admin = new HttpClient { BaseAddress = host.Addresses(Gatehouse.Proxy.ListenerKind.Admin)[0] };

        var first = TestCertificates.Rsa("CN=first.test");
        var (status, created) = await AdminCalls.SendAsync(admin, Json(HttpMethod.Post, "/certificates",
            new { cert = first.Cert, key = first.Key, snis = new[] { "api.test" } }));
        Assert.Equal(201, status);
        Assert.Equal("CN=first.test", await PresentedAsync(proxyPort, "api.test"));
        Assert.Equal("CN=default.test", await PresentedAsync(proxyPort, "other.test"));

        using var stop = new CancellationTokenSource();
        var seen = new System.Collections.Concurrent.ConcurrentBag<string>();
        var failures = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try { seen.Add(await PresentedAsync(proxyPort, "api.test")); }
                catch (Exception e) { failures.Add(e); }
            }
        })).ToArray();
        var second = TestCertificates.Ecdsa("CN=second.test");
        var (patched, _) = await AdminCalls.SendAsync(admin, Json(HttpMethod.Patch, $"/certificates/{created!["id"]}",
            new { cert = second.Cert, key = second.Key }));
        Assert.Equal(200, patched);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!seen.Contains("CN=second.test") && DateTime.UtcNow < deadline) await Task.Delay(20);
        await Task.Delay(200); // a few more handshakes on the new certificate
        await stop.CancelAsync();
        await Task.WhenAll(clients);

        Assert.Empty(failures);
        Assert.Contains("CN=second.test", seen);
        Assert.All(seen, subject => Assert.Contains(subject, new[] { "CN=first.test", "CN=second.test" }));
        Assert.Equal("CN=second.test", await PresentedAsync(proxyPort, "api.test"));
    }

    /// <summary>Kong's default: with no ssl_cert, ssl listeners present a self-signed certificate for localhost generated
    /// under the prefix (key readable by the owner only), and the next start reuses it.</summary>
    [Fact]
    public async Task Without_ssl_cert_a_self_signed_default_is_generated_under_the_prefix_and_kept_across_restarts()
    {
        string thumbprint;
        await using (var gateway = await GatewayFixture.StartAsync(configure: o => o with { Prefix = _dir, ProxyListen = [ListenAddress.Parse("127.0.0.1:0 ssl")] }))
        {
            Assert.Equal("CN=localhost, O=Gatehouse", await PresentedAsync(gateway, "any.test"));
            thumbprint = await ThumbprintAsync(gateway.ProxyUri.Port);
        }
        var key = Path.Combine(_dir, "ssl", "gatehouse-default.key");
        Assert.True(File.Exists(Path.Combine(_dir, "ssl", "gatehouse-default.crt")));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        await using (var again = await GatewayFixture.StartAsync(configure: o => o with { Prefix = _dir, ProxyListen = [ListenAddress.Parse("127.0.0.1:0 ssl")] }))
            Assert.Equal(thumbprint, await ThumbprintAsync(again.ProxyUri.Port));
    }

    /// <summary>Kong's ssl_protocols: a listener limited to TLSv1.3 refuses a client that offers only TLS 1.2; the
    /// default (TLSv1.2 TLSv1.3) takes both.</summary>
    [Fact]
    public async Task Ssl_protocols_limits_what_the_listeners_negotiate()
    {
        var conf = GatehouseConfLoader.LoadText("ssl_protocols = TLSv1.3\n", new Dictionary<string, string?>());
        var tls13Only = conf.Options!.SslProtocols;
        await using (var gateway = await GatewayFixture.StartAsync(configure: o => o with
        {
            Prefix = _dir, ProxyListen = [ListenAddress.Parse("127.0.0.1:0 ssl")], SslProtocols = tls13Only,
        }))
        {
            Assert.Equal(System.Security.Authentication.SslProtocols.Tls13, await NegotiatedAsync(gateway.ProxyUri.Port, System.Security.Authentication.SslProtocols.Tls13));
            await Assert.ThrowsAnyAsync<Exception>(() => NegotiatedAsync(gateway.ProxyUri.Port, System.Security.Authentication.SslProtocols.Tls12));
        }
        await using var byDefault = await GatewayFixture.StartAsync(configure: o => o with { Prefix = _dir, ProxyListen = [ListenAddress.Parse("127.0.0.1:0 ssl")] });
        Assert.Equal(System.Security.Authentication.SslProtocols.Tls12, await NegotiatedAsync(byDefault.ProxyUri.Port, System.Security.Authentication.SslProtocols.Tls12));
    }

    /// <summary>Kong's ssl_cipher_suite: intermediate (the default) takes Mozilla's AEAD suites and refuses a TLS 1.2
    /// client offering only a CBC suite; custom takes exactly ssl_ciphers; modern is TLS 1.3 only.</summary>
    [Theory]
    [InlineData("", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256")]
    [InlineData("ssl_cipher_suite = custom\nssl_ciphers = ECDHE-RSA-AES128-SHA256\n", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")]
    [InlineData("ssl_cipher_suite = modern\n", null, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // a client cipher policy is a Linux/macOS feature
    public async Task Ssl_cipher_suite_limits_the_TLS_1_2_suites_a_listener_accepts(string conf, string? accepted, string refused)
    {
        var loaded = GatehouseConfLoader.LoadText(conf, new Dictionary<string, string?>());
        Assert.True(loaded.IsValid, string.Join("; ", loaded.Errors));
        await using var gateway = await GatewayFixture.StartAsync(configure: o => o with
        {
            Prefix = _dir, ProxyListen = [ListenAddress.Parse("127.0.0.1:0 ssl")],
            SslProtocols = loaded.Options!.SslProtocols, CipherSuites = loaded.Options.CipherSuites,
        });
        if (accepted is not null)
            Assert.Equal(Enum.Parse<TlsCipherSuite>(accepted), await Tls12SuiteAsync(gateway.ProxyUri.Port, Enum.Parse<TlsCipherSuite>(accepted)));
        await Assert.ThrowsAnyAsync<Exception>(() => Tls12SuiteAsync(gateway.ProxyUri.Port, Enum.Parse<TlsCipherSuite>(refused)));
        Assert.Equal(System.Security.Authentication.SslProtocols.Tls13, await NegotiatedAsync(gateway.ProxyUri.Port, System.Security.Authentication.SslProtocols.Tls13));
    }

    /// <summary>A TLS 1.2 handshake offering only <paramref name="offered"/>; the suite negotiated.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static async Task<TlsCipherSuite> Tls12SuiteAsync(int port, TlsCipherSuite offered)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost", EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12,
            CipherSuitesPolicy = new CipherSuitesPolicy([offered]),
        });
        return tls.NegotiatedCipherSuite;
    }

    private static async Task<System.Security.Authentication.SslProtocols> NegotiatedAsync(int port, System.Security.Authentication.SslProtocols offered)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", EnabledSslProtocols = offered });
        return tls.SslProtocol;
    }

    /// <summary>Kong's admin_ssl_cert and status_ssl_cert: each plane presents its own pair; unset, the self-signed
    /// default (not the proxy's ssl_cert).</summary>
    [Fact]
    public async Task Admin_and_status_listeners_present_their_own_certificates()
    {
        async Task<(string Cert, string Key)> Write(string name)
        {
            var pair = TestCertificates.Rsa("CN=" + name);
            var (cert, key) = (Path.Combine(_dir, name + ".crt"), Path.Combine(_dir, name + ".key"));
            await File.WriteAllTextAsync(cert, pair.Cert);
            await File.WriteAllTextAsync(key, pair.Key);
            return (cert, key);
        }
        var proxy = await Write("proxy.test");
        var admin = await Write("admin.test");
        var text = $"proxy_listen = 127.0.0.1:0 ssl\nadmin_listen = 127.0.0.1:0 ssl\nstatus_listen = 127.0.0.1:0 ssl\n" +
            $"ssl_cert = {proxy.Cert}\nssl_cert_key = {proxy.Key}\nadmin_ssl_cert = {admin.Cert}\nadmin_ssl_cert_key = {admin.Key}\n";
        await using var host = await TlsTestHosts.StartFromConfAsync(text, _dir);
        Assert.Equal("CN=proxy.test", await PresentedAsync(host.Addresses(Gatehouse.Proxy.ListenerKind.Proxy)[0].Port, "any.test"));
        Assert.Equal("CN=admin.test", await PresentedAsync(host.Addresses(Gatehouse.Proxy.ListenerKind.Admin)[0].Port, "any.test"));
        Assert.Equal("CN=localhost, O=Gatehouse", await PresentedAsync(host.Addresses(Gatehouse.Proxy.ListenerKind.Status)[0].Port, "any.test"));
    }

    private static async Task<string> ThumbprintAsync(int port)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" });
        return tls.RemoteCertificate!.GetCertHashString();
    }

    private static HttpRequestMessage Json(HttpMethod method, string path, object body) => new(method, path)
    {
        Content = new StringContent(System.Text.Json.JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json"),
    };

    private static (CertificateModel Model, Guid Id) Certificate(PemPair pem)
    {
        var id = Guid.NewGuid();
        return (new CertificateModel { Id = id, Cert = pem.Cert, Key = pem.Key }, id);
    }

    private static SniModel Sni(string name, (CertificateModel Model, Guid Id) certificate) =>
        new() { Id = Guid.NewGuid(), Name = name, CertificateId = certificate.Id };

    /// <summary>A real handshake with <paramref name="serverName"/> as SNI; the subject of what the proxy presented.</summary>
    private static Task<string> PresentedAsync(GatewayFixture gateway, string serverName) => PresentedAsync(gateway.ProxyUri.Port, serverName);

    private static async Task<string> PresentedAsync(int port, string serverName)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = serverName });
        return tls.RemoteCertificate!.Subject;
    }

    public ValueTask DisposeAsync()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
        return ValueTask.CompletedTask;
    }
}
