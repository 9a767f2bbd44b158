using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Proxy.Upstreams;

/// <summary>A service whose host names an upstream balances over the upstream's targets, through the real Admin API,
/// store and proxy, with real echo servers on loopback: weights, weight 0, retries on another target, Kong's 503 and
/// 502, Host header, and targets named through the resolver (/etc/hosts).</summary>
public sealed class UpstreamProxyTests : IAsyncLifetime
{
    private readonly List<EchoUpstream> _echoes = [];

    public async Task InitializeAsync()
    {
        for (var i = 0; i < 3; i++) _echoes.Add(await EchoUpstream.StartAsync());
    }

    public async Task DisposeAsync()
    {
        foreach (var e in _echoes) await e.DisposeAsync();
    }

    /// <summary>A loopback port nothing listens on (bound then released).</summary>
    private static async Task ServiceOverUpstream(UpstreamGateway gw, string upstream, int retries = 5)
    {
        await gw.CreateAsync("/upstreams", $$"""{"name":"{{upstream}}"}""");
        await gw.CreateAsync("/services", $$"""{"name":"svc","host":"{{upstream}}","retries":{{retries}}}""");
        await gw.CreateAsync("/services/svc/routes", """{"paths":["/"]}""");
    }

    [Fact]
    public async Task Requests_spread_over_targets_by_weight_and_weight_0_gets_nothing()
    {
        await using var gw = await UpstreamGateway.StartAsync(false);
        await ServiceOverUpstream(gw, "backend.internal");
        await gw.CreateAsync("/upstreams/backend.internal/targets", $$"""{"target":"127.0.0.1:{{_echoes[0].Port}}","weight":300}""");
        await gw.CreateAsync("/upstreams/backend.internal/targets", $$"""{"target":"127.0.0.1:{{_echoes[1].Port}}","weight":100}""");
        await gw.CreateAsync("/upstreams/backend.internal/targets", $$"""{"target":"127.0.0.1:{{_echoes[2].Port}}","weight":0}""");
        for (var i = 0; i < 400; i++)
        {
            var (status, _) = await gw.ProxyGetAsync("/x");
            Assert.Equal(200, status);
        }
        // a smooth weighted round-robin over one full cycle (400 = 4 × 100) is exact: 300 and 100
        Assert.Equal(300, _echoes[0].RequestCount);
        Assert.Equal(100, _echoes[1].RequestCount);
        Assert.Equal(0, _echoes[2].RequestCount);
    }

    [Fact]
    public async Task The_Host_header_is_the_targets_host_and_port_or_the_upstreams_host_header()
    {
        await using var gw = await UpstreamGateway.StartAsync(false, new Dictionary<string, IPAddress> { ["echo.local"] = IPAddress.Loopback });
        await ServiceOverUpstream(gw, "backend.internal");
        await gw.CreateAsync("/upstreams/backend.internal/targets", $$"""{"target":"echo.local:{{_echoes[0].Port}}"}""");
        var (_, body) = await gw.ProxyGetAsync("/h");
        Assert.Equal($"echo.local:{_echoes[0].Port}", JsonNode.Parse(body)!["headers"]!["host"]!.GetValue<string>());

        var (patched, _) = await gw.SendAsync(HttpMethod.Patch, "/upstreams/backend.internal", """{"host_header":"virtual.test"}""");
        Assert.Equal(200, patched);
        (_, body) = await gw.ProxyGetAsync("/h");
        Assert.Equal($"virtual.test:{_echoes[0].Port}", JsonNode.Parse(body)!["headers"]!["host"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_refused_connection_is_retried_on_another_target()
    {
        await using var gw = await UpstreamGateway.StartAsync(false);
        await ServiceOverUpstream(gw, "backend.internal", retries: 1);
        var closed = EchoUpstream.ClosedPort();
        await gw.CreateAsync("/upstreams/backend.internal/targets", $$"""{"target":"127.0.0.1:{{closed}}"}""");
        await gw.CreateAsync("/upstreams/backend.internal/targets", $$"""{"target":"127.0.0.1:{{_echoes[0].Port}}"}""");
        for (var i = 0; i < 10; i++)
        {
            var (status, body) = await gw.ProxyGetAsync("/r");
            Assert.True(status == 200, body);
        }
        Assert.Equal(10, _echoes[0].RequestCount);
    }

    /// <summary>A connect failure sends nothing, so a request body is still whole for the next peer.</summary>
    [Fact]
    public async Task A_request_with_a_body_is_retried_whole_on_another_target()
    {
        await using var gw = await UpstreamGateway.StartAsync(false);
        await ServiceOverUpstream(gw, "backend.internal", retries: 2);
        await gw.CreateAsync("/upstreams/backend.internal/targets", $$"""{"target":"127.0.0.1:{{EchoUpstream.ClosedPort()}}"}""");
        await gw.CreateAsync("/upstreams/backend.internal/targets", $$"""{"target":"127.0.0.1:{{_echoes[0].Port}}"}""");
        var payload = new string('b', 100_000);
        for (var i = 0; i < 4; i++)
        {
            using var response = await gw.Proxy.PostAsync("/post", new StringContent(payload));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, body);
            Assert.Equal(payload, JsonNode.Parse(body)!["body"]!.GetValue<string>());
        }
        Assert.Equal(4, _echoes[0].RequestCount);
    }

    /// <summary>A listener whose accept queue is full and never drained: Linux drops further SYNs, so a connect to it
    /// hangs until the client's timeout (a black-holed target).</summary>
    private static Socket BlackHole(List<Socket> keep)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;
        for (var i = 0; i < 8; i++)
        {
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            keep.Add(filler);
            // fills the queue; once full, these connects stay pending
            _ = filler.ConnectAsync(endpoint);
        }
        keep.Add(listener);
        return listener;
    }

    [Fact]
    public async Task A_connect_timeout_is_retried_on_another_target_and_answers_504_when_none_connects()
    {
        var keep = new List<Socket>();
        try
        {
            var hole = (IPEndPoint)BlackHole(keep).LocalEndPoint!;
            await using var gw = await UpstreamGateway.StartAsync(false);
            await gw.CreateAsync("/upstreams", """{"name":"slow.internal"}""");
            await gw.CreateAsync("/services", """{"name":"svc","host":"slow.internal","retries":1,"connect_timeout":300}""");
            await gw.CreateAsync("/services/svc/routes", """{"paths":["/"]}""");
            await gw.CreateAsync("/upstreams/slow.internal/targets", $$"""{"target":"127.0.0.1:{{hole.Port}}"}""");
            var second = await gw.CreateAsync("/upstreams/slow.internal/targets", $$"""{"target":"127.0.0.1:{{_echoes[0].Port}}"}""");
            for (var i = 0; i < 4; i++) Assert.Equal(200, (await gw.ProxyGetAsync("/t")).Status);
            Assert.Equal(4, _echoes[0].RequestCount);

            var (deleted, _) = await gw.SendAsync(HttpMethod.Delete, $"/upstreams/slow.internal/targets/{second["id"]}");
            Assert.Equal(204, deleted);
            var (status, body) = await gw.ProxyGetAsync("/t");
            Assert.Equal(504, status);
            Assert.Contains("The upstream server is timing out", body);
        }
        finally
        {
            foreach (var s in keep) s.Dispose();
        }
    }

    [Fact]
    public async Task With_retries_0_a_refused_connection_answers_502()
    {
        await using var gw = await UpstreamGateway.StartAsync(false);
        await ServiceOverUpstream(gw, "backend.internal", retries: 0);
        await gw.CreateAsync("/upstreams/backend.internal/targets", $$"""{"target":"127.0.0.1:{{EchoUpstream.ClosedPort()}}"}""");
        await gw.CreateAsync("/upstreams/backend.internal/targets", $$"""{"target":"127.0.0.1:{{EchoUpstream.ClosedPort()}}"}""");
        var (status, body) = await gw.ProxyGetAsync("/r");
        Assert.Equal(502, status);
        Assert.Contains("An invalid response was received from the upstream server", body);
    }

    [Fact]
    public async Task Every_target_closed_answers_502_after_trying_each()
    {
        await using var gw = await UpstreamGateway.StartAsync(false);
        await ServiceOverUpstream(gw, "backend.internal", retries: 5);
        await gw.CreateAsync("/upstreams/backend.internal/targets", $$"""{"target":"127.0.0.1:{{EchoUpstream.ClosedPort()}}"}""");
        await gw.CreateAsync("/upstreams/backend.internal/targets", $$"""{"target":"127.0.0.1:{{EchoUpstream.ClosedPort()}}"}""");
        var (status, _) = await gw.ProxyGetAsync("/r");
        Assert.Equal(502, status);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("unresolvable")]
    [InlineData("weight0")]
    public async Task No_peer_answers_Kongs_503(string kind)
    {
        await using var gw = await UpstreamGateway.StartAsync(false);
        await ServiceOverUpstream(gw, "backend.internal");
        if (kind == "unresolvable") await gw.CreateAsync("/upstreams/backend.internal/targets", """{"target":"nowhere.invalid:80"}""");
        if (kind == "weight0") await gw.CreateAsync("/upstreams/backend.internal/targets", $$"""{"target":"127.0.0.1:{{_echoes[0].Port}}","weight":0}""");
        var (status, body) = await gw.ProxyGetAsync("/r");
        Assert.Equal(503, status);
        Assert.Equal("failure to get a peer from the ring-balancer", JsonNode.Parse(body)!["message"]!.GetValue<string>());
        Assert.Equal(0, _echoes[0].RequestCount);
    }

    /// <summary>Kong: the upstream takes tries only while its available weight share is above healthchecks.threshold;
    /// with health checks off all of it is available, so only 100 stops it.</summary>
    [Fact]
    public async Task The_health_threshold_applies()
    {
        await using var gw = await UpstreamGateway.StartAsync(false);
        await ServiceOverUpstream(gw, "backend.internal");
        await gw.CreateAsync("/upstreams/backend.internal/targets", $$"""{"target":"127.0.0.1:{{_echoes[0].Port}}"}""");
        Assert.Equal(200, (await gw.SendAsync(HttpMethod.Patch, "/upstreams/backend.internal", """{"healthchecks":{"threshold":99}}""")).Status);
        Assert.Equal(200, (await gw.ProxyGetAsync("/t")).Status);
        Assert.Equal(200, (await gw.SendAsync(HttpMethod.Patch, "/upstreams/backend.internal", """{"healthchecks":{"threshold":100}}""")).Status);
        var (status, body) = await gw.ProxyGetAsync("/t");
        Assert.Equal(503, status);
        Assert.Contains("failure to get a peer from the ring-balancer", body);
        var (_, health) = await gw.GetAsync("/upstreams/backend.internal/health?balancer_health=1");
        Assert.Equal("UNHEALTHY", health!["data"]!["balancer_health"]!.GetValue<string>());
        Assert.Equal(1, _echoes[0].RequestCount);
    }

    [Fact]
    public async Task A_host_that_names_no_upstream_is_used_as_today()
    {
        await using var gw = await UpstreamGateway.StartAsync(false);
        await gw.CreateAsync("/upstreams", """{"name":"other.internal"}""");
        await gw.CreateAsync("/services", $$"""{"name":"svc","url":"http://127.0.0.1:{{_echoes[1].Port}}"}""");
        await gw.CreateAsync("/services/svc/routes", """{"paths":["/"]}""");
        var (status, _) = await gw.ProxyGetAsync("/plain");
        Assert.Equal(200, status);
        Assert.Equal(1, _echoes[1].RequestCount);
    }

    [Fact]
    public async Task Deleting_an_upstream_deletes_its_targets_and_the_service_falls_back_to_its_host()
    {
        await using var gw = await UpstreamGateway.StartAsync(false);
        await ServiceOverUpstream(gw, "backend.internal");
        var target = await gw.CreateAsync("/upstreams/backend.internal/targets", $$"""{"target":"127.0.0.1:{{_echoes[0].Port}}"}""");
        Assert.Equal(200, (await gw.ProxyGetAsync("/d")).Status);
        var (deleted, _) = await gw.SendAsync(HttpMethod.Delete, "/upstreams/backend.internal");
        Assert.Equal(204, deleted);
        Assert.Equal(404, (await gw.GetAsync($"/targets/{target["id"]}")).Status);
        var (_, list) = await gw.GetAsync("/targets");
        Assert.Empty(list!["data"]!.AsArray());
        // the host is now a plain name, which does not resolve here
        var (status, _) = await gw.ProxyGetAsync("/d");
        Assert.NotEqual(200, status);
        Assert.Equal(1, _echoes[0].RequestCount);
    }
}
