using System.Text.Json.Nodes;
using Gatehouse.Proxy;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Proxy.Balancing;

namespace Gatehouse.Tests.Proxy.Upstreams;

/// <summary>Health checks end to end through the real gateway (SQLite, Admin API, proxy) with real loopback targets:
/// active probes take a failing target out and bring it back, passive reports of proxied 500s take one out, all
/// down answers Kong's 503, the Admin API shows and sets health in Kong's shapes, and the prometheus plugin exports
/// kong_upstream_target_health. Conditions are polled with a bound, never timed.</summary>
public sealed class UpstreamHealthCheckTests
{
    [Fact]
    public async Task Active_checks_take_a_failing_target_out_and_bring_it_back()
    {
        await using var a = await ProbeTarget.StartAsync();
        await using var b = await ProbeTarget.StartAsync();
        await using var gw = await UpstreamGateway.StartAsync(false);
        await SetUpAsync(gw, """
            {"name":"hc.internal","healthchecks":{"active":{"http_path":"/status","timeout":1,
              "healthy":{"interval":0.05,"successes":1},"unhealthy":{"interval":0.05,"http_failures":1}}}}
            """, a, b);
        await ProxyManyAsync(gw, 20);
        Assert.True(a.Requests > 0 && b.Requests > 0);

        b.Status = 500; // the probe (and only the probe: traffic moves) sees 500
        await Eventually.TrueAsync(async () => await TargetHealthAsync(gw, b) == "UNHEALTHY");
        Assert.Contains(b.Seen, r => r.PathAndQuery == "/status");
        var before = b.Requests;
        var answered = await ProxyManyAsync(gw, 20);
        Assert.All(answered, s => Assert.Equal(200, s));
        // the probes go on hitting b, but no proxied request does: every proxied one asks for /
        Assert.DoesNotContain(b.Seen.Skip(before), r => r.PathAndQuery == "/");
        Assert.Equal("HEALTHY", await TargetHealthAsync(gw, a));

        b.Status = 200;
        await Eventually.TrueAsync(async () => await TargetHealthAsync(gw, b) == "HEALTHY");
        var seen = b.Seen.Count;
        await ProxyManyAsync(gw, 20);
        Assert.Contains(b.Seen.Skip(seen), r => r.PathAndQuery == "/");
    }

    [Fact]
    public async Task Passive_checks_mark_a_target_that_answers_500s_unhealthy_and_all_down_is_503()
    {
        await using var a = await ProbeTarget.StartAsync();
        await using var b = await ProbeTarget.StartAsync();
        await using var gw = await UpstreamGateway.StartAsync(false);
        await SetUpAsync(gw, """{"name":"hc.internal","healthchecks":{"passive":{"unhealthy":{"http_failures":2}}}}""", a, b);
        b.Status = 500;
        // round-robin: within 10 requests b answers twice (two 500s in a row for b), then only a answers
        await ProxyManyAsync(gw, 10);
        Assert.Equal("UNHEALTHY", await TargetHealthAsync(gw, b));
        Assert.Equal("HEALTHY", await TargetHealthAsync(gw, a));
        var statuses = await ProxyManyAsync(gw, 10);
        Assert.All(statuses, s => Assert.Equal(200, s));

        a.Status = 503;
        await ProxyManyAsync(gw, 2);
        Assert.Equal("UNHEALTHY", await TargetHealthAsync(gw, a));
        var (status, body) = await gw.ProxyGetAsync("/svc/");
        Assert.Equal(503, status);
        Assert.Equal("failure to get a peer from the ring-balancer", JsonNode.Parse(body)!["message"]!.GetValue<string>());
        var (_, balancer) = await gw.GetAsync("/upstreams/hc.internal/health?balancer_health=1");
        Assert.Equal("UNHEALTHY", balancer!["data"]!["health"]!.GetValue<string>());
        Assert.Equal("UNHEALTHY", balancer["data"]!["balancer_health"]!.GetValue<string>());
        Assert.False(balancer["data"]!["details"]!["healthy"]!.GetValue<bool>());
        Assert.Equal(0, balancer["data"]!["details"]!["weight"]!["available"]!.GetValue<long>());
    }

    [Fact]
    public async Task Manual_healthy_and_unhealthy_set_the_checker_and_health_shapes_are_Kongs()
    {
        await using var a = await ProbeTarget.StartAsync();
        await using var b = await ProbeTarget.StartAsync();
        await using var gw = await UpstreamGateway.StartAsync(false);
        await SetUpAsync(gw, """{"name":"hc.internal","healthchecks":{"passive":{"unhealthy":{"tcp_failures":1}}}}""", a, b);
        Assert.Equal(204, (await gw.SendAsync(HttpMethod.Put, $"/upstreams/hc.internal/targets/127.0.0.1:{b.Port}/unhealthy")).Status);
        var (status, body) = await gw.GetAsync("/upstreams/hc.internal/health");
        Assert.Equal(200, status);
        var byTarget = body!["data"]!.AsArray().ToDictionary(t => t!["target"]!.GetValue<string>(), t => t!);
        var down = byTarget[$"127.0.0.1:{b.Port}"];
        Assert.Equal("UNHEALTHY", down["health"]!.GetValue<string>());
        Assert.Equal("UNHEALTHY", down["data"]!["addresses"]![0]!["health"]!.GetValue<string>());
        Assert.Equal(100, down["data"]!["weight"]!["unavailable"]!.GetValue<long>());
        Assert.Equal(0, down["data"]!["weight"]!["available"]!.GetValue<long>());
        Assert.Equal("HEALTHY", byTarget[$"127.0.0.1:{a.Port}"]["health"]!.GetValue<string>());
        // one target's health: its entry of the list, by host:port or by id; a target elsewhere is 404
        var (oneStatus, one) = await gw.GetAsync($"/upstreams/hc.internal/targets/127.0.0.1:{b.Port}/health");
        Assert.Equal(200, oneStatus);
        Assert.Equal(down.ToJsonString(), one!.AsObject().Where(kv => kv.Key != "node_id")
            .Aggregate(new JsonObject(), (o, kv) => { o[kv.Key] = kv.Value?.DeepClone(); return o; }).ToJsonString());
        Assert.False(string.IsNullOrEmpty((string?)one["node_id"]));
        Assert.Equal("UNHEALTHY", (string?)(await gw.GetAsync($"/upstreams/hc.internal/targets/{down["id"]}/health")).Body!["health"]);
        Assert.Equal(404, (await gw.GetAsync("/upstreams/hc.internal/targets/127.0.0.1:1/health")).Status);
        var before = b.Requests;
        await ProxyManyAsync(gw, 10);
        Assert.Equal(before, b.Requests);

        var (_, balancer) = await gw.GetAsync("/upstreams/hc.internal/health?balancer_health=1");
        var data = balancer!["data"]!;
        Assert.Equal("HEALTHY", data["health"]!.GetValue<string>());
        Assert.Equal(200, data["details"]!["weight"]!["total"]!.GetValue<long>());
        Assert.Equal(100, data["details"]!["weight"]!["unavailable"]!.GetValue<long>());
        var hosts = data["details"]!["hosts"]!.AsArray();
        Assert.Contains(hosts, h => h!["port"]!.GetValue<int>() == b.Port && !h["addresses"]![0]!["healthy"]!.GetValue<bool>());

        // per address: ip:port under the target
        var address = $"/upstreams/hc.internal/targets/127.0.0.1:{b.Port}/127.0.0.1:{b.Port}";
        Assert.Equal(204, (await gw.SendAsync(HttpMethod.Put, address + "/healthy")).Status);
        Assert.Equal("HEALTHY", await TargetHealthAsync(gw, b));
        await ProxyManyAsync(gw, 10);
        Assert.True(b.Requests > before);
        var (unknown, unknownBody) = await gw.SendAsync(HttpMethod.Put, $"/upstreams/hc.internal/targets/127.0.0.1:{b.Port}/127.0.0.9:1/unhealthy");
        Assert.Equal(400, unknown);
        Assert.Equal("target not found", unknownBody!["message"]!.GetValue<string>());
        Assert.Equal(404, (await gw.SendAsync(HttpMethod.Put, "/upstreams/hc.internal/targets/10.9.9.9:1/healthy")).Status);
        // POST as older Kong versions (and the docs written for them) send it
        Assert.Equal(204, (await gw.SendAsync(HttpMethod.Post, address + "/unhealthy")).Status);
        Assert.Equal("UNHEALTHY", await TargetHealthAsync(gw, b));

        // a connect failure is a passive TCP failure: a dead target goes down after one try (the retry serves it)
        await b.DisposeAsync();
        await Eventually.TrueAsync(async () =>
        {
            await gw.ProxyGetAsync("/svc/");
            return await TargetHealthAsync(gw, b) == "UNHEALTHY";
        });
    }

    [Fact]
    public async Task A_read_timeout_is_a_passive_timeout_and_a_closed_connection_a_tcp_failure()
    {
        await using var a = await ProbeTarget.StartAsync();
        await using var b = await ProbeTarget.StartAsync();
        await using var gw = await UpstreamGateway.StartAsync(false);
        await SetUpAsync(gw, """{"name":"hc.internal","healthchecks":{"passive":{"unhealthy":{"timeouts":1}}}}""", a, b);
        // both targets have answered once before the 200 ms read_timeout applies (a first answer is slow on a busy machine)
        Assert.All(await ProxyManyAsync(gw, 2), s => Assert.Equal(200, s));
        // no retries: each failed try answers (with retries, the other target would answer the retried GET)
        var (patched, _) = await gw.SendAsync(HttpMethod.Patch, "/services/svc", """{"read_timeout":200,"retries":0}""");
        Assert.Equal(200, patched);
        b.Behaviour = ProbeBehaviour.Hang;
        var statuses = await ProxyManyAsync(gw, 4);
        Assert.Contains(504, statuses);
        Assert.Equal("UNHEALTHY", await TargetHealthAsync(gw, b));
        Assert.Equal("HEALTHY", await TargetHealthAsync(gw, a));

        // counting TCP failures only (a new checker: both healthy again), a connection closed without a response
        // takes a target out
        var (changed, _) = await gw.SendAsync(HttpMethod.Patch, "/upstreams/hc.internal",
            """{"healthchecks":{"passive":{"unhealthy":{"timeouts":0,"tcp_failures":1}}}}""");
        Assert.Equal(200, changed);
        b.Behaviour = ProbeBehaviour.Answer;
        a.Behaviour = ProbeBehaviour.Close;
        Assert.Contains(502, await ProxyManyAsync(gw, 2));
        Assert.Equal("UNHEALTHY", await TargetHealthAsync(gw, a));
        Assert.Equal("HEALTHY", await TargetHealthAsync(gw, b));
    }

    [Fact]
    public async Task A_new_snapshot_keeps_the_checker_state_and_a_changed_config_replaces_it()
    {
        await using var a = await ProbeTarget.StartAsync();
        await using var b = await ProbeTarget.StartAsync();
        await using var gw = await UpstreamGateway.StartAsync(false);
        await SetUpAsync(gw, """{"name":"hc.internal","healthchecks":{"passive":{"unhealthy":{"tcp_failures":1}}}}""", a, b);
        Assert.Equal(204, (await gw.SendAsync(HttpMethod.Put, $"/upstreams/hc.internal/targets/127.0.0.1:{b.Port}/unhealthy")).Status);
        // an unrelated change publishes a new snapshot: b stays down
        await gw.CreateAsync("/services", """{"name":"other","url":"http://127.0.0.1:1"}""");
        Assert.Equal("UNHEALTHY", await TargetHealthAsync(gw, b));
        // a weight change rebuilds the balancer with the same checker
        var (patched, _) = await gw.SendAsync(HttpMethod.Patch, $"/upstreams/hc.internal/targets/127.0.0.1:{a.Port}", """{"weight":50}""");
        Assert.Equal(200, patched);
        Assert.Equal("UNHEALTHY", await TargetHealthAsync(gw, b));
        // new health check settings: a new checker, every peer healthy again
        var (changed, _) = await gw.SendAsync(HttpMethod.Patch, "/upstreams/hc.internal",
            """{"healthchecks":{"passive":{"unhealthy":{"tcp_failures":2}}}}""");
        Assert.Equal(200, changed);
        Assert.Equal("HEALTHY", await TargetHealthAsync(gw, b));
        // checks off: no checker any more
        var (off, _) = await gw.SendAsync(HttpMethod.Patch, "/upstreams/hc.internal",
            """{"healthchecks":{"passive":{"unhealthy":{"tcp_failures":0}}}}""");
        Assert.Equal(200, off);
        Assert.Equal("HEALTHCHECKS_OFF", await TargetHealthAsync(gw, b));
        var (s, m) = await gw.SendAsync(HttpMethod.Put, $"/upstreams/hc.internal/targets/127.0.0.1:{b.Port}/unhealthy");
        Assert.Equal(400, s);
        Assert.Equal("no healthchecker found for hc.internal", m!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Prometheus_exports_kong_upstream_target_health_when_upstream_health_metrics_is_on()
    {
        await using var a = await ProbeTarget.StartAsync();
        await using var b = await ProbeTarget.StartAsync();
        await using var gw = await UpstreamGateway.StartAsync(false, statusListener: true);
        await SetUpAsync(gw, """{"name":"hc.internal","healthchecks":{"passive":{"unhealthy":{"tcp_failures":1}}}}""", a, b);
        await gw.CreateAsync("/upstreams", """{"name":"off.internal"}""");
        await gw.CreateAsync("/upstreams/off.internal/targets", """{"target":"nowhere.invalid:81"}""");
        using var status = new HttpClient { BaseAddress = gw.Host.Addresses(ListenerKind.Status)[0] };
        var plugin = await gw.CreateAsync("/plugins", """{"name":"prometheus"}""");
        Assert.DoesNotContain("kong_upstream_target_health{", await status.GetStringAsync("/metrics"));

        await gw.SendAsync(HttpMethod.Patch, $"/plugins/{plugin["id"]}", """{"config":{"upstream_health_metrics":true}}""");
        Assert.Equal(204, (await gw.SendAsync(HttpMethod.Put, $"/upstreams/hc.internal/targets/127.0.0.1:{b.Port}/unhealthy")).Status);
        var text = await status.GetStringAsync("/metrics");
        string Line(string target, string address, string state) =>
            $"kong_upstream_target_health{{upstream=\"{(target.StartsWith("nowhere") ? "off" : "hc")}.internal\",target=\"{target}\",address=\"{address}\",state=\"{state}\",subsystem=\"http\"}}";
        var ta = $"127.0.0.1:{a.Port}";
        var tb = $"127.0.0.1:{b.Port}";
        Assert.Contains(Line(ta, ta, "healthy") + " 1", text);
        Assert.Contains(Line(ta, ta, "unhealthy") + " 0", text);
        Assert.Contains(Line(tb, tb, "unhealthy") + " 1", text);
        Assert.Contains(Line(tb, tb, "healthy") + " 0", text);
        Assert.Contains(Line("nowhere.invalid:81", "", "dns_error") + " 1", text);
        Assert.Contains(Line("nowhere.invalid:81", "", "healthchecks_off") + " 0", text);

        // a removed target's series disappear at the next scrape
        Assert.Equal(204, (await gw.SendAsync(HttpMethod.Delete, $"/upstreams/hc.internal/targets/{tb}")).Status);
        Assert.DoesNotContain($"target=\"{tb}\"", await status.GetStringAsync("/metrics"));
    }

    [Fact]
    public async Task Declarative_upstreams_with_health_checks_are_checked_DB_less()
    {
        await using var a = await ProbeTarget.StartAsync();
        await using var b = await ProbeTarget.StartAsync();
        await using var gw = await UpstreamGateway.StartAsync(true);
        var yaml = $$"""
            _format_version: "3.0"
            services:
              - name: svc
                host: hc.internal
                routes:
                  - paths: [/svc]
            upstreams:
              - name: hc.internal
                healthchecks:
                  passive:
                    unhealthy:
                      http_failures: 1
                targets:
                  - target: 127.0.0.1:{{a.Port}}
                  - target: 127.0.0.1:{{b.Port}}
            """;
        using var content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(yaml));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/yaml");
        using var posted = await gw.Admin.PostAsync("/config", content);
        Assert.Equal(201, (int)posted.StatusCode);
        b.Status = 500;
        await ProxyManyAsync(gw, 4);
        Assert.Equal("UNHEALTHY", await TargetHealthAsync(gw, b));
        Assert.All(await ProxyManyAsync(gw, 6), s => Assert.Equal(200, s));
        Assert.Equal(204, (await gw.SendAsync(HttpMethod.Put, $"/upstreams/hc.internal/targets/127.0.0.1:{b.Port}/healthy")).Status);
        Assert.Equal("HEALTHY", await TargetHealthAsync(gw, b));
    }

    [Fact]
    public async Task Grpc_active_checks_are_still_refused_naming_the_type()
    {
        await using var gw = await UpstreamGateway.StartAsync(false);
        var (status, body) = await gw.PostAsync("/upstreams",
            """{"name":"g.internal","healthchecks":{"active":{"type":"grpc","healthy":{"interval":5}}}}""");
        Assert.Equal(400, status);
        Assert.Equal("not supported by Gatehouse yet: health checks of active.type 'grpc'", body!["fields"]!["healthchecks"]!.GetValue<string>());
        // with checks off, the type is accepted and the upstream serves (no checker)
        await using var a = await ProbeTarget.StartAsync();
        await SetUpAsync(gw, """{"name":"hc.internal","healthchecks":{"active":{"type":"grpcs"}}}""", a);
        Assert.Equal(200, (await gw.ProxyGetAsync("/svc/")).Status);
        Assert.Equal("HEALTHCHECKS_OFF", await TargetHealthAsync(gw, a));
    }

    private static async Task SetUpAsync(UpstreamGateway gw, string upstream, params ProbeTarget[] targets)
    {
        await gw.CreateAsync("/upstreams", upstream);
        foreach (var t in targets)
            await gw.CreateAsync("/upstreams/hc.internal/targets", $$"""{"target":"127.0.0.1:{{t.Port}}"}""");
        await gw.CreateAsync("/services", """{"name":"svc","host":"hc.internal","port":80,"retries":1}""");
        await gw.CreateAsync("/services/svc/routes", """{"paths":["/svc"]}""");
    }

    private static async Task<List<int>> ProxyManyAsync(UpstreamGateway gw, int count)
    {
        var statuses = new List<int>();
        for (var i = 0; i < count; i++) statuses.Add((await gw.ProxyGetAsync("/svc/")).Status);
        return statuses;
    }

    private static async Task<string?> TargetHealthAsync(UpstreamGateway gw, ProbeTarget target)
    {
        var (_, body) = await gw.GetAsync("/upstreams/hc.internal/health");
        return body!["data"]!.AsArray().FirstOrDefault(t => t!["target"]!.GetValue<string>() == $"127.0.0.1:{target.Port}")
            ?["health"]?.GetValue<string>();
    }
}
