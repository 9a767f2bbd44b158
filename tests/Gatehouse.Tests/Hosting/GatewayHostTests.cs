using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Proxy;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Infrastructure.TestConfig;

namespace Gatehouse.Tests.Hosting;

/// <summary>Listeners and planes of the real host: separation of proxy/admin/status, TLS with ALPN h2 and SNI
/// routing, graceful drain on stop.</summary>
public sealed class GatewayHostTests
{
    [Fact]
    public async Task PlanesAreSeparatedByListener()
    {
        await using var gateway = await GatewayFixture.StartAsync(configure: o => o with
        {
            AdminListen = [ListenAddress.Parse("127.0.0.1:0")],
            StatusListen = [ListenAddress.Parse("127.0.0.1:0")],
        });
        var admin = gateway.Host.Addresses(ListenerKind.Admin).Single();
        var status = gateway.Host.Addresses(ListenerKind.Status).Single();
        Assert.NotEqual(admin.Port, status.Port);
        Assert.NotEqual(admin.Port, gateway.ProxyUri.Port);
        using var client = new HttpClient();

        using var adminStatus = await client.GetAsync(new Uri(admin, "/status"));
        Assert.Equal(HttpStatusCode.OK, adminStatus.StatusCode);
        using var doc = JsonDocument.Parse(await adminStatus.Content.ReadAsStringAsync());
        Assert.False(doc.RootElement.TryGetProperty("database", out _)); // DB-less: Kong reports configuration_hash instead
        Assert.Equal(new string('0', 32), doc.RootElement.GetProperty("configuration_hash").GetString());
        Assert.True(doc.RootElement.GetProperty("server").GetProperty("total_requests").GetInt64() >= 1);

        using var statusStatus = await client.GetAsync(new Uri(status, "/status"));
        Assert.Equal(HttpStatusCode.OK, statusStatus.StatusCode);
        using var statusOther = await client.GetAsync(new Uri(status, "/services"));
        Assert.Equal(HttpStatusCode.NotFound, statusOther.StatusCode);

        using var proxyStatus = await gateway.Client.GetAsync("/status");
        Assert.Equal(HttpStatusCode.NotFound, proxyStatus.StatusCode);
        Assert.Equal("{\"message\":\"no Route matched with those values\"}", await proxyStatus.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task StopDrainsInFlightRequests()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var gateway = await GatewayFixture.StartAsync();
        var service = Service(upstream);
        gateway.Publish(Of([service], [Route(service, "slow", paths: ["/"]) with { StripPath = false }]));
        var counters = (GatewayCounters)gateway.Host.Services.GetService(typeof(GatewayCounters))!;

        var inFlight = gateway.Client.GetAsync("/delay/600");
        for (var i = 0; i < 200 && counters.ActiveRequests == 0; i++) await Task.Delay(10);
        Assert.Equal(1, counters.ActiveRequests);
        var stopping = gateway.Host.StopAsync();

        using var response = await inFlight;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/delay/600", (await response.EchoAsync()).Path);
        await stopping;
        await Assert.ThrowsAsync<HttpRequestException>(() => gateway.CreateClient().GetAsync("/delay/1"));
        await gateway.DisposeAsync();
    }

    [Fact]
    public async Task TlsListenerNegotiatesH2AndRoutesBySni()
    {
        var dir = Directory.CreateTempSubdirectory("gatehouse-tls-").FullName;
        var (cert, key) = WriteSelfSigned(dir, "secure.test");
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await GatewayFixture.StartAsync(configure: o => o with
        {
            ProxyListen = [ListenAddress.Parse("127.0.0.1:0 ssl http2")],
            SslCert = cert,
            SslCertKey = key,
        });
        var service = Service(upstream);
        gateway.Publish(Of([service], [
            Route(service, "by-sni", paths: ["/"]) with { Snis = ["secure.test"], Protocols = ["https"] },
        ]));
        using var client = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true, TargetHost = "secure.test" },
            ConnectCallback = async (ctx, ct) =>
            {
                var s = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                await s.ConnectAsync(IPAddress.Loopback, gateway.ProxyUri.Port, ct);
                return new System.Net.Sockets.NetworkStream(s, ownsSocket: true);
            },
        })
        {
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://secure.test:{gateway.ProxyUri.Port}/tls")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Add("Gatehouse-Debug", "1");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("by-sni", response.Single("Gatehouse-Route-Name"));
        var echo = await response.EchoAsync();
        Assert.Equal("https", echo.Header("x-forwarded-proto"));
    }

    private static (string Cert, string Key) WriteSelfSigned(string dir, string name)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var certPath = Path.Combine(dir, "cert.pem");
        var keyPath = Path.Combine(dir, "key.pem");
        File.WriteAllText(certPath, cert.ExportCertificatePem());
        File.WriteAllText(keyPath, rsa.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath);
    }
}
