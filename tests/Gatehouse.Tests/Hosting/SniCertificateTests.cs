using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Config;
using Gatehouse.Model;
using Gatehouse.Tests.Infrastructure;
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
        var defaultPair = TestCertificates.Rsa("CN=default.test");
        await File.WriteAllTextAsync(Path.Combine(_dir, "cert.pem"), defaultPair.Cert);
        await File.WriteAllTextAsync(Path.Combine(_dir, "key.pem"), defaultPair.Key);
        await using var gateway = await GatewayFixture.StartAsync(configure: o => o with
        {
            ProxyListen = [ListenAddress.Parse("127.0.0.1:0 ssl")],
            SslCert = Path.Combine(_dir, "cert.pem"),
            SslCertKey = Path.Combine(_dir, "key.pem"),
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

        // rotation: the same name now points at another certificate, served from the next handshake on
        var rotated = Certificate(TestCertificates.Ecdsa("CN=rotated.test"));
        gateway.Publish(Of([], []) with { Certificates = [rotated.Model], Snis = [Sni("a.test", rotated)] });
        Assert.Equal("CN=rotated.test", await PresentedAsync(gateway, "a.test"));
        Assert.Equal("CN=default.test", await PresentedAsync(gateway, "x.wild.test"));
    }

    private static (CertificateModel Model, Guid Id) Certificate(PemPair pem)
    {
        var id = Guid.NewGuid();
        return (new CertificateModel { Id = id, Cert = pem.Cert, Key = pem.Key }, id);
    }

    private static SniModel Sni(string name, (CertificateModel Model, Guid Id) certificate) =>
        new() { Id = Guid.NewGuid(), Name = name, CertificateId = certificate.Id };

    /// <summary>A real handshake with <paramref name="serverName"/> as SNI; the subject of what the proxy presented.</summary>
    private static async Task<string> PresentedAsync(GatewayFixture gateway, string serverName)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, gateway.ProxyUri.Port);
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
