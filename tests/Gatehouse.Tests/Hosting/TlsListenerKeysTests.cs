using System.Net.Security;
using System.Net.Sockets;
using Gatehouse.Config;
using Gatehouse.Model;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Hosting;

/// <summary>Kong's TLS listener keys that .NET's SslStream leaves no choice for (docs/tls.md): the value accepted is
/// the one the listeners behave as, proved by a real handshake.</summary>
public sealed class TlsListenerKeysTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gatehouse-tls-keys-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>ssl_prefer_server_ciphers = on (Kong's default, the only value accepted): whatever order the client
    /// offers its TLS 1.2 suites in, the listener picks the first of its own list (intermediate: AES-128 before AES-256).</summary>
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Ssl_prefer_server_ciphers_on_picks_the_servers_order_of_suites()
    {
        var loaded = GatehouseConfLoader.LoadText("ssl_prefer_server_ciphers = on\nssl_cipher_suite = intermediate", new Dictionary<string, string?>());
        Assert.True(loaded.IsValid, string.Join("; ", loaded.Errors));
        Assert.False(GatehouseConfLoader.LoadText("ssl_prefer_server_ciphers = off", new Dictionary<string, string?>()).IsValid);
        var pair = TestCertificates.Rsa("CN=prefer.test");
        await File.WriteAllTextAsync(Path.Combine(_dir, "cert.pem"), pair.Cert);
        await File.WriteAllTextAsync(Path.Combine(_dir, "key.pem"), pair.Key);
        await using var gateway = await GatewayFixture.StartAsync(configure: o => o with
        {
            Prefix = _dir, ProxyListen = [ListenAddress.Parse("127.0.0.1:0 ssl")],
            SslCert = Path.Combine(_dir, "cert.pem"), SslCertKey = Path.Combine(_dir, "key.pem"),
            SslProtocols = loaded.Options!.SslProtocols, CipherSuites = loaded.Options.CipherSuites,
        });
        const TlsCipherSuite aes128 = TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
        const TlsCipherSuite aes256 = TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384;
        // each alone is accepted, so the choice below is a preference, not a refusal
        Assert.Equal(aes256, await Tls12SuiteAsync(gateway.ProxyUri.Port, [aes256]));
        Assert.Equal(aes128, await Tls12SuiteAsync(gateway.ProxyUri.Port, [aes256, aes128]));
        Assert.Equal(aes128, await Tls12SuiteAsync(gateway.ProxyUri.Port, [aes128, aes256]));
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static async Task<TlsCipherSuite> Tls12SuiteAsync(int port, TlsCipherSuite[] offered)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "prefer.test", EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12,
            CipherSuitesPolicy = new CipherSuitesPolicy(offered),
        });
        return tls.NegotiatedCipherSuite;
    }
}
