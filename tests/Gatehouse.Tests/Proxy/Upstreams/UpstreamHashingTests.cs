using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Proxy.Upstreams;

/// <summary>Consistent-hashing upstreams through the real proxy: the key comes from hash_on (header, cookie,
/// query_arg, uri_capture, path, ip), then hash_fallback; one key always reaches one target, and different keys
/// reach more than one; a missing hash cookie is made up and set on the response, as Kong does.</summary>
public sealed class UpstreamHashingTests : IAsyncLifetime
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

    private async Task<UpstreamGateway> StartAsync(string upstreamJson, string routePaths = "[\"/\"]")
    {
        var gw = await UpstreamGateway.StartAsync(false);
        await gw.CreateAsync("/upstreams", upstreamJson);
        var name = JsonNode.Parse(upstreamJson)!["name"]!.GetValue<string>();
        foreach (var e in _echoes) await gw.CreateAsync($"/upstreams/{name}/targets", $$"""{"target":"127.0.0.1:{{e.Port}}"}""");
        await gw.CreateAsync("/services", $$"""{"name":"svc","host":"{{name}}"}""");
        await gw.CreateAsync("/services/svc/routes", $$"""{"paths":{{routePaths}}}""");
        return gw;
    }

    private long[] Counts() => [.. _echoes.Select(e => e.RequestCount)];

    /// <summary>Sends <paramref name="repeat"/> requests per key; asserts each key landed on one target and returns
    /// how many targets the keys used.</summary>
    private async Task<int> TargetsUsed(UpstreamGateway gw, int keys, int repeat, Func<int, HttpRequestMessage> request)
    {
        var used = new HashSet<int>();
        for (var k = 0; k < keys; k++)
        {
            var before = Counts();
            for (var r = 0; r < repeat; r++)
            {
                using var message = request(k);
                using var response = await gw.Proxy.SendAsync(message);
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            }
            var after = Counts();
            var hit = Enumerable.Range(0, _echoes.Count).Where(i => after[i] != before[i]).ToArray();
            Assert.Single(hit);
            Assert.Equal(repeat, after[hit[0]] - before[hit[0]]);
            used.Add(hit[0]);
        }
        return used.Count;
    }

    [Fact]
    public async Task Hash_on_header_sticks_each_value_to_one_target()
    {
        await using var gw = await StartAsync("""{"name":"h.internal","hash_on":"header","hash_on_header":"x-user"}""");
        var used = await TargetsUsed(gw, 30, 4, k =>
        {
            var m = new HttpRequestMessage(HttpMethod.Get, "/a");
            m.Headers.Add("x-user", $"user-{k}");
            return m;
        });
        Assert.True(used > 1, "30 keys over 3 targets used only one");
    }

    /// <summary>1,000 distinct keys spread over the ring by weight (Kong gives a target ring points in proportion to its
    /// weight): 300:100:0 sends about three quarters to the first and none to the weight-0 target.</summary>
    [Fact]
    public async Task A_thousand_keys_spread_by_weight_over_the_ring()
    {
        await using var gw = await UpstreamGateway.StartAsync(false);
        await gw.CreateAsync("/upstreams", """{"name":"w.internal","hash_on":"header","hash_on_header":"x-user"}""");
        int[] weights = [300, 100, 0];
        for (var i = 0; i < 3; i++)
            await gw.CreateAsync("/upstreams/w.internal/targets", $$"""{"target":"127.0.0.1:{{_echoes[i].Port}}","weight":{{weights[i]}}}""");
        await gw.CreateAsync("/services", """{"name":"svc","host":"w.internal"}""");
        await gw.CreateAsync("/services/svc/routes", """{"paths":["/"]}""");
        for (var k = 0; k < 1000; k++)
        {
            using var m = new HttpRequestMessage(HttpMethod.Get, "/a");
            m.Headers.Add("x-user", $"user-{k}");
            using var response = await gw.Proxy.SendAsync(m);
            Assert.True(response.IsSuccessStatusCode);
        }
        var counts = Counts();
        Assert.Equal(1000, counts.Sum());
        Assert.Equal(0, counts[2]);
        // 480 of 640 ring points: 0.75 (0.80 seen), with the spread of a hash over 1,000 keys
        Assert.InRange(counts[0] / 1000.0, 0.62, 0.88);
    }

    /// <summary>least-connections and latency under concurrent load (1,000 requests, 30 at a time, each held 20 ms by
    /// the upstream): least-connections gives the 200-weight target about two thirds,
    /// latency gives it more than the 100-weight one (it weighs measured latencies too), and the weight-0 one gets nothing. Sequential requests
    /// would all go to the heaviest target (nothing in flight), as in Kong.</summary>
    [Theory]
    [InlineData("least-connections")]
    [InlineData("latency")]
    public async Task A_thousand_concurrent_requests_spread_by_weight(string algorithm)
    {
        await using var gw = await UpstreamGateway.StartAsync(false);
        await gw.CreateAsync("/upstreams", $$"""{"name":"l.internal","algorithm":"{{algorithm}}"}""");
        int[] weights = [200, 100, 0];
        for (var i = 0; i < 3; i++)
            await gw.CreateAsync("/upstreams/l.internal/targets", $$"""{"target":"127.0.0.1:{{_echoes[i].Port}}","weight":{{weights[i]}}}""");
        await gw.CreateAsync("/services", """{"name":"svc","host":"l.internal"}""");
        await gw.CreateAsync("/services/svc/routes", """{"paths":["/"]}""");
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 30).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < 1000)
            {
                using var response = await gw.Proxy.GetAsync("/delay/20");
                Assert.True(response.IsSuccessStatusCode);
            }
        }));
        var counts = Counts();
        Assert.Equal(1000, counts.Sum());
        Assert.Equal(0, counts[2]);
        if (algorithm == "least-connections") Assert.InRange(counts[0] / 1000.0, 0.5, 0.85); // 0.67 seen
        else
        {
            // latency follows each target's measured latency too (0.67 to 0.96 seen): the heavier takes more, both serve
            Assert.True(counts[0] > counts[1], $"{counts[0]} vs {counts[1]}");
            Assert.True(counts[1] > 0);
        }
    }

    /// <summary>hash_on consumer: the consumer key-auth identified is the key (Kong's authenticated consumer id);
    /// without one (anonymous requests are refused by key-auth here), hash_fallback's header is.</summary>
    [Fact]
    public async Task Hash_on_consumer_sticks_each_authenticated_consumer_to_one_target()
    {
        await using var gw = await StartAsync("""{"name":"c.internal","hash_on":"consumer","hash_fallback":"header","hash_fallback_header":"x-t"}""");
        await gw.CreateAsync("/services/svc/plugins", """{"name":"key-auth"}""");
        for (var k = 0; k < 30; k++)
        {
            await gw.CreateAsync("/consumers", $$"""{"username":"user-{{k}}"}""");
            await gw.CreateAsync($"/consumers/user-{k}/key-auth", $$"""{"key":"key-{{k}}"}""");
        }
        var used = await TargetsUsed(gw, 30, 4, k =>
        {
            var m = new HttpRequestMessage(HttpMethod.Get, "/a");
            m.Headers.Add("apikey", $"key-{k}");
            m.Headers.Add("x-t", "one value for all"); // the fallback would send every consumer to one target
            return m;
        });
        Assert.True(used > 1, "30 consumers over 3 targets used only one: the consumer was not the key");
    }

    [Fact]
    public async Task Hash_on_query_arg_then_fallback_header()
    {
        await using var gw = await StartAsync("""{"name":"q.internal","hash_on":"query_arg","hash_on_query_arg":"tenant","hash_fallback":"header","hash_fallback_header":"x-t"}""");
        Assert.True(await TargetsUsed(gw, 30, 3, k => new HttpRequestMessage(HttpMethod.Get, $"/a?tenant=t{k}")) > 1);
        Assert.True(await TargetsUsed(gw, 30, 3, k =>
        {
            var m = new HttpRequestMessage(HttpMethod.Get, "/a");
            m.Headers.Add("x-t", $"t{k}");
            return m;
        }) > 1);
    }

    [Fact]
    public async Task Hash_on_uri_capture_and_path()
    {
        await using (var gw = await StartAsync("""{"name":"c.internal","hash_on":"uri_capture","hash_on_uri_capture":"account"}""",
                         """["~/accounts/(?<account>[0-9]+)"]"""))
            Assert.True(await TargetsUsed(gw, 30, 3, k => new HttpRequestMessage(HttpMethod.Get, $"/accounts/{k}/x?r={Guid.NewGuid()}")) > 1);
        await using (var gw = await StartAsync("""{"name":"p.internal","hash_on":"path"}"""))
            Assert.True(await TargetsUsed(gw, 30, 3, k => new HttpRequestMessage(HttpMethod.Get, $"/p{k}")) > 1);
    }

    [Fact]
    public async Task Hash_on_ip_sends_one_client_to_one_target()
    {
        await using var gw = await StartAsync("""{"name":"ip.internal","hash_on":"ip"}""");
        Assert.Equal(1, await TargetsUsed(gw, 5, 4, k => new HttpRequestMessage(HttpMethod.Get, $"/ip{k}")));
    }

    [Fact]
    public async Task Hash_on_cookie_sets_a_missing_cookie_and_sticks_to_it()
    {
        await using var gw = await StartAsync("""{"name":"k.internal","hash_on":"cookie","hash_on_cookie":"affinity","hash_on_cookie_path":"/app"}""");
        using var first = await gw.Proxy.GetAsync("/x");
        Assert.True(first.IsSuccessStatusCode);
        var setCookie = Assert.Single(first.Headers.GetValues("Set-Cookie"));
        Assert.Matches("^affinity=[0-9a-f-]{36}; Path=/app; Same-Site=Lax; HttpOnly$", setCookie);
        var cookie = setCookie.Split(';')[0];
        var used = await TargetsUsed(gw, 1, 6, _ =>
        {
            var m = new HttpRequestMessage(HttpMethod.Get, "/x");
            m.Headers.Add("Cookie", cookie);
            return m;
        });
        Assert.Equal(1, used);
        using var withCookie = new HttpRequestMessage(HttpMethod.Get, "/x");
        withCookie.Headers.Add("Cookie", cookie);
        using var again = await gw.Proxy.SendAsync(withCookie);
        Assert.False(again.Headers.Contains("Set-Cookie"));
        Assert.True(await TargetsUsed(gw, 30, 2, k =>
        {
            var m = new HttpRequestMessage(HttpMethod.Get, "/x");
            m.Headers.Add("Cookie", $"affinity=v{k}");
            return m;
        }) > 1);
    }
}
