using System.Net;
using System.Net.WebSockets;
using System.Text;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Infrastructure.TestConfig;

namespace Gatehouse.Tests.Proxy;

/// <summary>What reaches the upstream and what comes back: forwarding headers, bodies, query strings, h2c from the
/// client, WebSocket upgrade, informational headers.</summary>
public sealed class ForwardingTests : IAsyncLifetime
{
    private EchoUpstream _upstream = null!;
    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await EchoUpstream.StartAsync();
        _gateway = await GatewayFixture.StartAsync();
        var service = Service(_upstream);
        _gateway.Publish(Of([service], [Route(service, "api", paths: ["/api"])]));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task SetsForwardedHeadersAsKong()
    {
        using var request = ProxyRequests.Get("/api/items?x=1", "shop.test:1234");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "10.1.1.1");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        using var response = await _gateway.Client.SendAsync(request);
        var echo = await response.EchoAsync();
        Assert.Equal("10.1.1.1, 127.0.0.1", echo.Header("x-forwarded-for"));
        Assert.Equal("127.0.0.1", echo.Header("x-real-ip"));
        Assert.Equal("http", echo.Header("x-forwarded-proto"));
        Assert.Equal("shop.test", echo.Header("x-forwarded-host"));
        Assert.Equal(_gateway.ProxyUri.Port.ToString(), echo.Header("x-forwarded-port"));
        Assert.Equal("/api/items", echo.Header("x-forwarded-path"));
        Assert.Equal("/api", echo.Header("x-forwarded-prefix"));
        Assert.Equal("1.1 gatehouse/" + GatehouseVersion.Current, echo.Header("via"));
        Assert.Equal("/items", echo.Path);
        Assert.Equal("?x=1", echo.Query);
    }

    /// <summary>The gateway's forwarding headers replace whatever the client sent under those names, whatever their
    /// case (one value each upstream, not the client's joined with the gateway's); a prefix the route does not strip
    /// removes the client's X-Forwarded-Prefix.</summary>
    [Fact]
    public async Task ClientSentForwardingHeadersAreReplacedNotJoined()
    {
        var service = Service(_upstream);
        var unstripped = Route(service, "kept", paths: ["/kept"]) with { StripPath = false };
        _gateway.Publish(Of([service], [Route(service, "api", paths: ["/api"]), unstripped]));
        foreach (var (path, prefix) in new[] { ("/api/items", "/api"), ("/kept/items", null) })
        {
            using var request = ProxyRequests.Get(path, "shop.test");
            foreach (var (name, value) in new[]
            {
                ("x-real-ip", "10.9.9.9"), ("X-FORWARDED-PROTO", "https"), ("x-forwarded-host", "evil.test"),
                ("X-Forwarded-Port", "1"), ("x-forwarded-path", "/evil"), ("X-Forwarded-prefix", "/evil"), ("via", "1.0 client"),
            })
                request.Headers.TryAddWithoutValidation(name, value);
            using var response = await _gateway.Client.SendAsync(request);
            var echo = await response.EchoAsync();
            Assert.Equal("127.0.0.1", echo.Header("x-real-ip"));
            Assert.Equal("http", echo.Header("x-forwarded-proto"));
            Assert.Equal("shop.test", echo.Header("x-forwarded-host"));
            Assert.Equal(_gateway.ProxyUri.Port.ToString(), echo.Header("x-forwarded-port"));
            Assert.Equal(path, echo.Header("x-forwarded-path"));
            Assert.Equal(prefix, echo.Header("x-forwarded-prefix"));
            Assert.Equal("1.0 client, 1.1 gatehouse/" + GatehouseVersion.Current, echo.Header("via"));
            Assert.Equal("127.0.0.1", echo.Header("x-forwarded-for"));
            Assert.Equal($"127.0.0.1:{_upstream.Port}", echo.Header("host")); // the service's, once
        }
    }

    [Fact]
    public async Task ForwardsRequestBodyAndMethod()
    {
        using var response = await _gateway.Client.PostAsync("/api/post", new StringContent("hello body", Encoding.UTF8, "text/plain"));
        var echo = await response.EchoAsync();
        Assert.Equal("POST", echo.Method);
        Assert.Equal("hello body", echo.Body);
    }

    [Fact]
    public async Task ProxiesWithInlineIoOffToo()
    {
        // inline_io = on (the default) is what every other test runs; this is the thread-pool model
        await using var gateway = await GatewayFixture.StartAsync(configure: o => o with { InlineIo = false });
        var service = Service(_upstream);
        gateway.Publish(Of([service], [Route(service, "api", paths: ["/api"])]));
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            gateway.Client.PostAsync("/api/post", new StringContent($"body {i}", Encoding.UTF8, "text/plain"))));
        for (var i = 0; i < responses.Length; i++)
            Assert.Equal($"body {i}", (await responses[i].EchoAsync()).Body);
    }

    [Fact]
    public async Task AddsViaAndLatencyHeadersByDefault()
    {
        using var response = await _gateway.Client.GetAsync("/api");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("1.1 gatehouse/" + GatehouseVersion.Current, response.Single("Via"));
        Assert.True(long.Parse(response.Single("X-Gatehouse-Upstream-Latency")!) >= 0);
        Assert.True(long.Parse(response.Single("X-Gatehouse-Proxy-Latency")!) >= 0);
        Assert.Equal("1", response.Single("X-Echo"));
    }

    [Fact]
    public async Task HeadersOffRemovesInformationalHeaders()
    {
        await using var quiet = await GatewayFixture.StartAsync(configure: o => o with { Headers = new HashSet<string>() });
        var service = Service(_upstream);
        quiet.Publish(Of([service], [Route(service, "api", paths: ["/api"])]));
        using var response = await quiet.Client.GetAsync("/api");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Single("Via"));
        Assert.Null(response.Single("X-Gatehouse-Upstream-Latency"));
        Assert.Null(response.Single("X-Gatehouse-Proxy-Latency"));
        using var notFound = await quiet.Client.GetAsync("/nothing");
        Assert.Null(notFound.Single("Server"));
    }

    [Fact]
    public async Task RequestIdHeaderGoesUpstreamAndBackWhenEnabled()
    {
        await using var gateway = await GatewayFixture.StartAsync(configure: o => o with { Headers = new HashSet<string> { "x-kong-request-id" } });
        var service = Service(_upstream);
        gateway.Publish(Of([service], [Route(service, "api", paths: ["/api"])]));
        using var response = await gateway.Client.GetAsync("/api");
        var id = response.Single("X-Gatehouse-Request-Id");
        Assert.False(string.IsNullOrEmpty(id));
        Assert.Equal(id, (await response.EchoAsync()).Header("x-gatehouse-request-id"));
        Assert.Null(response.Single("Via"));
        using var other = await gateway.Client.GetAsync("/api");
        Assert.NotEqual(id, other.Single("X-Gatehouse-Request-Id"));
    }

    [Fact]
    public async Task LocalAnswersCarryServerAndResponseLatency()
    {
        using var response = await _gateway.Client.GetAsync("/nothing");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("gatehouse/" + GatehouseVersion.Current, response.Single("Server"));
        Assert.NotNull(response.Single("X-Gatehouse-Response-Latency"));
    }

    [Fact]
    public async Task ClientHttp2CleartextIsProxied()
    {
        using var h2 = _gateway.CreateClient(HttpVersion.Version20);
        using var response = await h2.GetAsync("/api/h2");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        var echo = await response.EchoAsync();
        Assert.Equal("/h2", echo.Path);
        Assert.Equal("HTTP/1.1", echo.Protocol);
    }

    [Fact]
    public async Task GrpcServiceIsReachedOverH2c()
    {
        var grpc = Service("127.0.0.1", _upstream.H2cPort, name: "grpc") with { Protocol = "grpc" };
        _gateway.Publish(Of([grpc], [Route(grpc, "g", paths: ["/g"]) with { Protocols = ["grpc", "http"] }]));
        using var response = await _gateway.Client.GetAsync("/g/svc");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("HTTP/2", (await response.EchoAsync()).Protocol);
    }

    [Fact]
    public async Task WebSocketEchoThroughTheProxy()
    {
        using var socket = new ClientWebSocket();
        var uri = new Uri($"ws://127.0.0.1:{_gateway.ProxyUri.Port}/api/ws");
        await socket.ConnectAsync(uri, CancellationToken.None);
        foreach (var text in new[] { "ping", "second message" })
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);
            var buffer = new byte[256];
            var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
            Assert.Equal(text, Encoding.UTF8.GetString(buffer, 0, result.Count));
        }
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        Assert.Equal(WebSocketState.Closed, socket.State);
    }
}
