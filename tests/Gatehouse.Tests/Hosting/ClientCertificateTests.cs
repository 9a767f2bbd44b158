using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Config;
using Gatehouse.Model;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Infrastructure.TestConfig;

namespace Gatehouse.Tests.Hosting;

/// <summary>nginx's <c>ssl_verify_client</c> on a real proxy <c>ssl</c> listener (Kong's injected
/// <c>nginx_proxy_ssl_verify_client</c>, <c>nginx_proxy_ssl_client_certificate</c>, <c>nginx_proxy_ssl_verify_depth</c>):
/// real handshakes with and without client certificates, nginx's 400 messages, the stored <c>ca_certificates</c> as
/// trust anchors when no CA file is set.</summary>
public sealed class ClientCertificateTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gatehouse-mtls-").FullName;
    private readonly PemPair _ca = TestCertificates.Ca("CN=Clients CA");
    private PemPair _trusted = null!;
    private readonly PemPair _stranger = TestCertificates.Ecdsa("CN=stranger.test"); // self-signed, no anchor vouches for it
    private EchoUpstream _upstream = null!;

    public async Task InitializeAsync()
    {
        _trusted = TestCertificates.Issued(_ca, "CN=client.test");
        await File.WriteAllTextAsync(Path.Combine(_dir, "ca.pem"), _ca.Cert);
        _upstream = await EchoUpstream.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    private async Task<GatewayFixture> StartAsync(ClientCertificateVerify verify, bool caFile = true, int depth = 1)
    {
        var gateway = await GatewayFixture.StartAsync(configure: o => o with
        {
            ProxyListen = [ListenAddress.Parse("127.0.0.1:0 ssl")],
            ClientCertificates = new ClientCertificateOptions
            {
                Verify = verify, CaFile = caFile ? Path.Combine(_dir, "ca.pem") : null, Depth = depth,
            },
        });
        var service = Service(_upstream);
        gateway.Publish(Of([service], [Route(service, "r", paths: ["/"])]));
        return gateway;
    }

    /// <summary>A GET over a new TLS connection, presenting <paramref name="client"/> (and its intermediates) if given.</summary>
    internal static async Task<(int Status, string Body)> GetAsync(GatewayFixture gateway, PemPair? client, params PemPair[] intermediates)
    {
        var ssl = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = delegate { return true; } };
        if (client is not null)
        {
            var leaf = X509Certificate2.CreateFromPem(client.Cert, client.Key);
            // a PEM key is ephemeral; OpenSSL-backed .NET signs with it as is, a PKCS#12 round trip keeps it usable everywhere
            leaf = X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pkcs12), null);
            ssl.ClientCertificateContext = SslStreamCertificateContext.Create(leaf,
                [.. intermediates.Select(i => X509Certificate2.CreateFromPem(i.Cert))], offline: true);
        }
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, SslOptions = ssl });
        using var response = await http.GetAsync($"https://127.0.0.1:{gateway.ProxyUri.Port}/mtls");
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task On_requires_a_certificate_the_ca_file_vouches_for()
    {
        await using var gateway = await StartAsync(ClientCertificateVerify.On);
        Assert.Equal(200, (await GetAsync(gateway, _trusted)).Status);
        var none = await GetAsync(gateway, null);
        Assert.Equal(400, none.Status);
        Assert.Contains("No required SSL certificate was sent", none.Body);
        var stranger = await GetAsync(gateway, _stranger);
        Assert.Equal(400, stranger.Status);
        Assert.Contains("The SSL certificate error", stranger.Body);
    }

    [Fact]
    public async Task Optional_lets_clients_without_a_certificate_in_but_not_with_a_bad_one()
    {
        await using var gateway = await StartAsync(ClientCertificateVerify.Optional);
        Assert.Equal(200, (await GetAsync(gateway, _trusted)).Status);
        Assert.Equal(200, (await GetAsync(gateway, null)).Status);
        var stranger = await GetAsync(gateway, _stranger);
        Assert.Equal(400, stranger.Status);
        Assert.Contains("The SSL certificate error", stranger.Body);
    }

    [Fact]
    public async Task Optional_no_ca_accepts_a_certificate_no_anchor_vouches_for()
    {
        await using var gateway = await StartAsync(ClientCertificateVerify.OptionalNoCa);
        Assert.Equal(200, (await GetAsync(gateway, _stranger)).Status);
        Assert.Equal(200, (await GetAsync(gateway, _trusted)).Status);
        Assert.Equal(200, (await GetAsync(gateway, null)).Status);
        // an unknown issuer is all optional_no_ca forgives: an expired certificate is still refused
        var expired = await GetAsync(gateway, ExpiredSelfSigned());
        Assert.Equal(400, expired.Status);
        Assert.Contains("The SSL certificate error", expired.Body);
    }

    private static PemPair ExpiredSelfSigned()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=expired.test", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(-1));
        return new PemPair(cert.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    [Fact]
    public async Task Off_asks_for_no_certificate()
    {
        await using var gateway = await StartAsync(ClientCertificateVerify.Off);
        Assert.Equal(200, (await GetAsync(gateway, _stranger)).Status);
        Assert.Equal(200, (await GetAsync(gateway, null)).Status);
    }

    [Fact]
    public async Task Without_a_ca_file_the_stored_ca_certificates_are_the_trust_anchors()
    {
        await using var gateway = await StartAsync(ClientCertificateVerify.On, caFile: false);
        var service = Service(_upstream);
        var routes = new[] { Route(service, "r", paths: ["/"]) };
        Assert.Equal(400, (await GetAsync(gateway, _trusted)).Status); // no ca_certificates yet
        gateway.Publish(Of([service], routes) with { CaCertificates = [new CaCertificateModel { Id = Guid.NewGuid(), Cert = _ca.Cert }] });
        Assert.Equal(200, (await GetAsync(gateway, _trusted)).Status);
        Assert.Equal(400, (await GetAsync(gateway, _stranger)).Status);
    }

    [Fact]
    public async Task Verify_depth_limits_the_intermediates_between_the_certificate_and_an_anchor()
    {
        var intermediate = TestCertificates.Issued(_ca, "CN=Intermediate CA", ca: true);
        var client = TestCertificates.Issued(intermediate, "CN=deep.test");
        await using (var depth1 = await StartAsync(ClientCertificateVerify.On))
            Assert.Equal(200, (await GetAsync(depth1, client, intermediate)).Status);
        await using var depth0 = await StartAsync(ClientCertificateVerify.On, depth: 0);
        Assert.Equal(200, (await GetAsync(depth0, _trusted)).Status); // signed by the anchor itself: no intermediate
        var deep = await GetAsync(depth0, client, intermediate);
        Assert.Equal(400, deep.Status);
        Assert.Contains("The SSL certificate error", deep.Body);
    }

    [Fact]
    public async Task A_ca_file_without_certificates_stops_the_start()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "empty.pem"), "not a pem\n");
        var e = await Assert.ThrowsAnyAsync<Exception>(() => GatewayFixture.StartAsync(configure: o => o with
        {
            ProxyListen = [ListenAddress.Parse("127.0.0.1:0 ssl")],
            ClientCertificates = new ClientCertificateOptions { Verify = ClientCertificateVerify.On, CaFile = Path.Combine(_dir, "empty.pem") },
        }));
        Assert.Contains("nginx_proxy_ssl_client_certificate", e.ToString());
    }

    [Fact]
    public void The_nginx_directives_are_conf_keys()
    {
        var loaded = GatehouseConfLoader.LoadText("""
            nginx_proxy_ssl_verify_client = optional_no_ca
            nginx_proxy_ssl_client_certificate = /etc/ca.pem
            nginx_proxy_ssl_verify_depth = 3
            """, new Dictionary<string, string?>());
        Assert.True(loaded.IsValid, string.Join("; ", loaded.Errors));
        Assert.Empty(loaded.Warnings);
        Assert.Equal(new ClientCertificateOptions { Verify = ClientCertificateVerify.OptionalNoCa, CaFile = "/etc/ca.pem", Depth = 3 },
            loaded.Options!.ClientCertificates);
        var bad = GatehouseConfLoader.LoadText("nginx_proxy_ssl_verify_client = maybe\n", new Dictionary<string, string?>());
        Assert.Contains(bad.Errors, e => e.Contains("nginx_proxy_ssl_verify_client", StringComparison.Ordinal));
    }
}
