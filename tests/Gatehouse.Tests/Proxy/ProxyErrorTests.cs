using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Infrastructure.TestConfig;

namespace Gatehouse.Tests.Proxy;

/// <summary>Kong's error answers: 502, 504, 503 without service, 404 for disabled services, 426 and redirects for
/// https-only routes, and a clean 431 for oversized headers.</summary>
public sealed class ProxyErrorTests : IAsyncLifetime
{
    private EchoUpstream _upstream = null!;
    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await EchoUpstream.StartAsync();
        _gateway = await GatewayFixture.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task ConnectFailureAnswers502WithKongBody()
    {
        var service = Service("127.0.0.1", EchoUpstream.ClosedPort()) with { Retries = 2 };
        _gateway.Publish(Of([service], [Route(service, "r", paths: ["/"])]));
        using var response = await _gateway.Client.GetAsync("/x");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("{\"message\":\"An invalid response was received from the upstream server\"}", await response.Content.ReadAsStringAsync());
        Assert.StartsWith("application/json", response.Content.Headers.ContentType!.ToString());
    }

    /// <summary>An upstream that closes a new connection without a byte of response: one try and Kong's 502. The
    /// HTTP client took that close for an idle keep-alive connection's and sent the GET again, 3 more times.</summary>
    [Fact]
    public async Task ClosedWithoutResponseAnswers502AfterOneTry()
    {
        using var upstream = new ScriptedUpstream();
        for (var i = 0; i < 4; i++)
            _ = upstream.Answer(s => { s.Shutdown(SocketShutdown.Both); return Task.CompletedTask; });
        var service = Service("127.0.0.1", upstream.Port) with { Retries = 5 };
        _gateway.Publish(Of([service], [Route(service, "r", paths: ["/"])]));
        using var response = await _gateway.Client.GetAsync("/x");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(1, upstream.Requests);
    }

    [Fact]
    public async Task ConnectTimeoutAnswers504()
    {
        // a listener that never accepts, with its accept queue filled: further SYNs are dropped, connects hang
        using var stuck = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        stuck.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        stuck.Listen(1);
        var port = ((IPEndPoint)stuck.LocalEndPoint!).Port;
        var fillers = new List<Socket>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(filler);
                using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
                try { await filler.ConnectAsync(IPAddress.Loopback, port, cts.Token); }
                catch (OperationCanceledException) { break; }
            }
            var service = Service("127.0.0.1", port) with { ConnectTimeout = 200, Retries = 2 };
            _gateway.Publish(Of([service], [Route(service, "r", paths: ["/"])]));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var response = await _gateway.Client.GetAsync("/x");
            // three attempts (1 + retries) of 200 ms each: a lower bound, so it cannot flake on a slow machine
            Assert.True(clock.ElapsedMilliseconds >= 550, $"answered after {clock.ElapsedMilliseconds} ms: retries not applied");
            Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
            Assert.Equal("{\"message\":\"The upstream server is timing out\"}", await response.Content.ReadAsStringAsync());
        }
        finally
        {
            foreach (var f in fillers) f.Dispose();
        }
    }

    [Fact]
    public async Task ReadTimeoutAnswers504WithKongBody()
    {
        var service = Service(_upstream) with { ReadTimeout = 200 };
        _gateway.Publish(Of([service], [Route(service, "r", paths: ["/"]) with { StripPath = false }]));
        using var response = await _gateway.Client.GetAsync("/delay/3000");
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("{\"message\":\"The upstream server is timing out\"}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SlowButInTimeUpstreamAnswers200()
    {
        var service = Service(_upstream) with { ReadTimeout = 5000 };
        _gateway.Publish(Of([service], [Route(service, "r", paths: ["/"]) with { StripPath = false }]));
        using var response = await _gateway.Client.GetAsync("/delay/100");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/delay/100", (await response.EchoAsync()).Path);
    }

    [Fact]
    public async Task RouteWithoutServiceAnswers503()
    {
        _gateway.Publish(Of([], [Route(null, "orphan", paths: ["/"])]));
        using var response = await _gateway.Client.GetAsync("/x");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("{\"message\":\"no Service found with those values\"}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task DisabledServiceRoutesAreNotMatched()
    {
        var off = Service(_upstream, name: "off") with { Enabled = false };
        _gateway.Publish(Of([off], [Route(off, "r", paths: ["/"])]));
        using var response = await _gateway.Client.GetAsync("/x");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("{\"message\":\"no Route matched with those values\"}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task HttpsOnlyRouteAnswers426()
    {
        var service = Service(_upstream);
        _gateway.Publish(Of([service], [Route(service, "r", paths: ["/"]) with { Protocols = ["https"] }]));
        using var response = await _gateway.Client.GetAsync("/x");
        Assert.Equal((HttpStatusCode)426, response.StatusCode);
        Assert.Equal("{\"message\":\"Please use HTTPS protocol\"}", await response.Content.ReadAsStringAsync());
        Assert.Equal(["TLS/1.2", "HTTP/1.1"], response.Headers.Upgrade.Select(p => p.ToString()));
    }

    [Theory]
    [InlineData(301)]
    [InlineData(302)]
    [InlineData(307)]
    [InlineData(308)]
    public async Task HttpsOnlyRouteRedirectsWithConfiguredStatus(int code)
    {
        var service = Service(_upstream);
        _gateway.Publish(Of([service], [Route(service, "r", paths: ["/"]) with { Protocols = ["https"], HttpsRedirectStatusCode = code }]));
        using var request = ProxyRequests.Get("/a/b?q=1", "secure.test:8000");
        using var response = await _gateway.Client.SendAsync(request);
        Assert.Equal(code, (int)response.StatusCode);
        Assert.Equal("https://secure.test/a/b?q=1", response.Headers.Location!.ToString());
    }

    [Fact]
    public async Task OversizedHeadersAnswer431AndTheGatewayKeepsServing()
    {
        var service = Service(_upstream);
        _gateway.Publish(Of([service], [Route(service, "r", paths: ["/"])]));
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(IPAddress.Loopback, _gateway.ProxyUri.Port);
            var stream = tcp.GetStream();
            var big = new string('a', 64 * 1024);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /x HTTP/1.1\r\nHost: t\r\nX-Big: {big}\r\n\r\n"));
            var buffer = new byte[1024];
            var read = await stream.ReadAsync(buffer);
            var head = Encoding.ASCII.GetString(buffer, 0, read);
            Assert.StartsWith("HTTP/1.1 431 Request Header Fields Too Large", head);
        }
        using var ok = await _gateway.Client.GetAsync("/x");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }
}
