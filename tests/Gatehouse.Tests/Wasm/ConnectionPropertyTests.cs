using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Model;
using Gatehouse.Proxy;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Wasm;

/// <summary>
/// The <c>connection.*</c> and <c>source.*</c>/<c>destination.*</c> properties (docs/proxy-wasm-conformance.md), read by
/// the real C <c>phases</c> filter (<c>x-property-&lt;name&gt;</c> response headers; <c>!status=1</c> is NOT_FOUND) on a
/// gateway with an <c>ssl</c> proxy listener asking for client certificates (optional) and a plain one: over TLS with
/// a verified client certificate, with an unverified one, without one, and over plain HTTP.
/// </summary>
public sealed class ConnectionPropertyTests : IAsyncLifetime
{
    private static readonly string[] Names =
    [
        "connection.id", "connection.mtls", "connection.requested_server_name", "connection.tls_version",
        "connection.subject_local_certificate", "connection.subject_peer_certificate",
        "connection.dns_san_local_certificate", "connection.dns_san_peer_certificate",
        "connection.uri_san_local_certificate", "connection.uri_san_peer_certificate",
        "connection.sha256_peer_certificate_digest", "connection.termination_details",
        "source.address", "source.port", "destination.address", "destination.port",
    ];

    private readonly string _filters = WasmPaths.CopyFilters(Path.Combine(WasmPaths.Repo, "filters", "test"), "phases");
    private readonly PemPair _ca = TestCertificates.Ca("CN=Clients CA");
    private PemPair _client = null!;
    private EchoUpstream _upstream = null!;
    private GatewayFixture _gateway = null!;
    private int _tlsPort, _plainPort;

    public async Task InitializeAsync()
    {
        _client = TestCertificates.Issued(_ca, "CN=client.test,O=Gatehouse Tests", dns: ["client.test", "alt.client.test"],
            uris: ["spiffe://gatehouse.test/client"]);
        var server = TestCertificates.Issued(_ca, "CN=server.test", dns: ["server.test"], uris: ["https://server.test/id"]);
        await File.WriteAllTextAsync(Path.Combine(_filters, "ca.pem"), _ca.Cert);
        await File.WriteAllTextAsync(Path.Combine(_filters, "server.pem"), server.Cert);
        await File.WriteAllTextAsync(Path.Combine(_filters, "server.key"), server.Key);
        _upstream = await EchoUpstream.StartAsync();
        _gateway = await GatewayFixture.StartAsync(configure: o => o with
        {
            Wasm = true, WasmFiltersPath = _filters,
            ProxyListen = [ListenAddress.Parse("127.0.0.1:0 ssl"), ListenAddress.Parse("127.0.0.1:0")],
            SslCert = Path.Combine(_filters, "server.pem"), SslCertKey = Path.Combine(_filters, "server.key"),
            ClientCertificates = new ClientCertificateOptions { Verify = ClientCertificateVerify.OptionalNoCa, CaFile = Path.Combine(_filters, "ca.pem") },
        });
        var addresses = _gateway.Host.Addresses(ListenerKind.Proxy);
        (_tlsPort, _plainPort) = (addresses[0].Port, addresses[1].Port);
        var service = TestConfig.Service(_upstream);
        var route = TestConfig.Route(service, "r", paths: ["/"]);
        var reads = new JsonArray([.. Names.Select(n => (JsonNode)new JsonObject { ["action"] = "get_property", ["name"] = n })]);
        _gateway.Publish(TestConfig.Of([service], [route]) with
        {
            FilterChains = [new FilterChainModel { Id = Guid.NewGuid(), RouteId = route.Id,
                Filters = [new("phases", true, new JsonObject { ["request_headers"] = reads }.ToJsonString())] }],
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        Directory.Delete(_filters, true);
    }

    /// <summary>Two requests on one new connection to <c>host</c> (resolved to 127.0.0.1, so TLS sends it as SNI); the
    /// properties each reported.</summary>
    private async Task<Func<string, string>[]> TwoRequestsAsync(string scheme, string host, PemPair? client)
    {
        var ssl = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = delegate { return true; } };
        if (client is not null)
        {
            var leaf = X509Certificate2.CreateFromPem(client.Cert, client.Key);
            ssl.ClientCertificateContext = SslStreamCertificateContext.Create(
                X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pkcs12), null), null, offline: true);
        }
        var port = scheme == "https" ? _tlsPort : _plainPort;
        using var http = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false, SslOptions = ssl, MaxConnectionsPerServer = 1,
            ConnectCallback = async (_, token) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), token);
                return new NetworkStream(socket, ownsSocket: true);
            },
        });
        var reports = new List<Func<string, string>>();
        for (var i = 0; i < 2; i++)
        {
            using var response = await http.GetAsync($"{scheme}://{host}:{port}/props");
            Assert.Equal(200, (int)response.StatusCode);
            var headers = Names.ToDictionary(n => n, n => response.Single("x-property-" + n) ?? throw new InvalidOperationException("no report of " + n));
            reports.Add(name => headers[name]);
        }
        return [.. reports];
    }

    private static long Int64(string reported)
    {
        Assert.StartsWith("hex:", reported);
        return System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(Convert.FromHexString(reported[4..]));
    }

    [Fact]
    public async Task Over_TLS_with_a_verified_client_certificate_every_connection_property_is_answered()
    {
        var reported = await TwoRequestsAsync("https", "mtls.test", _client);
        var first = reported[0];
        Assert.Equal("hex:01", first("connection.mtls")); // a bool in Gatehouse's (Envoy's) binary encoding
        Assert.Equal("mtls.test", first("connection.requested_server_name"));
        Assert.Matches("^TLSv1\\.[23]$", first("connection.tls_version"));
        Assert.Equal("CN=server.test", first("connection.subject_local_certificate"));
        Assert.Equal("CN=client.test,O=Gatehouse Tests", first("connection.subject_peer_certificate"));
        Assert.Equal("server.test", first("connection.dns_san_local_certificate"));
        Assert.Equal("client.test", first("connection.dns_san_peer_certificate"));
        Assert.Equal("https://server.test/id", first("connection.uri_san_local_certificate"));
        Assert.Equal("spiffe://gatehouse.test/client", first("connection.uri_san_peer_certificate"));
        using var clientCert = X509Certificate2.CreateFromPem(_client.Cert);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(clientCert.RawData)), first("connection.sha256_peer_certificate_digest"));
        Assert.Equal("!status=1", first("connection.termination_details"));
        Assert.Matches(@"^127\.0\.0\.1:\d+$", first("source.address"));
        Assert.Equal(int.Parse(first("source.address").Split(':')[1], System.Globalization.CultureInfo.InvariantCulture), Int64(first("source.port")));
        Assert.Equal($"127.0.0.1:{_tlsPort}", first("destination.address"));
        Assert.Equal(_tlsPort, Int64(first("destination.port")));
        // one connection: the same id and values on its second request; a number, as nginx's connection counter
        Assert.True(Int64(first("connection.id")) > 0);
        foreach (var name in Names) Assert.Equal(first(name), reported[1](name));
    }

    [Fact]
    public async Task Over_TLS_without_a_verified_certificate_mtls_is_false_and_peer_values_follow_what_was_sent()
    {
        var unverified = TestCertificates.Ecdsa("CN=stranger.test"); // optional_no_ca lets it in, not verified
        var stranger = (await TwoRequestsAsync("https", "other.test", unverified))[0];
        Assert.Equal("hex:00", stranger("connection.mtls"));
        Assert.Equal("CN=stranger.test", stranger("connection.subject_peer_certificate"));
        Assert.Equal("!status=1", stranger("connection.dns_san_peer_certificate"));

        var none = (await TwoRequestsAsync("https", "mtls.test", null))[0];
        Assert.Equal("hex:00", none("connection.mtls"));
        Assert.Equal("CN=server.test", none("connection.subject_local_certificate"));
        foreach (var name in new[] { "connection.subject_peer_certificate", "connection.dns_san_peer_certificate",
                     "connection.uri_san_peer_certificate", "connection.sha256_peer_certificate_digest" })
            Assert.Equal("!status=1", none(name));
    }

    [Fact]
    public async Task Over_plain_HTTP_only_the_id_and_addresses_are_found()
    {
        var reported = await TwoRequestsAsync("http", "mtls.test", null);
        var plain = reported[0];
        Assert.True(Int64(plain("connection.id")) > 0);
        foreach (var name in Names.Where(n => n.StartsWith("connection.", StringComparison.Ordinal) && n != "connection.id"))
            Assert.Equal("!status=1", plain(name));
        Assert.Matches(@"^127\.0\.0\.1:\d+$", plain("source.address"));
        Assert.Equal(_plainPort, Int64(plain("destination.port")));

        // another connection, another id
        var other = (await TwoRequestsAsync("http", "mtls.test", null))[0];
        Assert.NotEqual(plain("connection.id"), other("connection.id"));
    }
}
