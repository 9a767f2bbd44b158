using System.Globalization;
using System.Net;
using System.Text;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Proxy;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Store;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Plugins;

/// <summary>
/// Issue #15 item 3: <c>/metrics</c> on the Admin API and on status_listen exports Kong 3.9's prometheus families
/// (kong/plugins/prometheus/exporter.lua) with Kong's names, labels and buckets, after real proxied requests: a
/// success, a 404 without a route, an upstream 502 and a request of an authenticated consumer.
/// </summary>
public sealed class PrometheusExporterTests : IAsyncLifetime
{
    /// <summary>Every family Kong 3.9.3's exporter registers for the http subsystem of a traditional node.</summary>
    private static readonly string[] KongFamilies =
    [
        "kong_nginx_connections_total", "kong_nginx_requests_total", "kong_nginx_timers", "kong_datastore_reachable",
        "kong_node_info", "kong_upstream_target_health", "kong_memory_workers_lua_vms_bytes",
        "kong_memory_lua_shared_dict_bytes", "kong_memory_lua_shared_dict_total_bytes", "kong_http_requests_total",
        "kong_kong_latency_ms", "kong_upstream_latency_ms", "kong_request_latency_ms", "kong_bandwidth_bytes",
        "kong_ai_llm_requests_total", "kong_ai_llm_cost_total", "kong_ai_llm_tokens_total", "kong_ai_llm_provider_latency_ms",
    ];

    /// <summary>Kong's families Gatehouse deliberately does not export, each with its reason (docs/metrics.md).</summary>
    private static readonly Dictionary<string, string> Omitted = new()
    {
        ["kong_nginx_timers"] = "no nginx timers: there is no honest equivalent (a constant would be a lie)",
        ["kong_memory_workers_lua_vms_bytes"] = "no Lua VM: gatehouse_memory_managed_heap_bytes / _working_set_bytes instead",
        ["kong_memory_lua_shared_dict_bytes"] = "no lua_shared_dict",
        ["kong_memory_lua_shared_dict_total_bytes"] = "no lua_shared_dict",
        ["kong_ai_llm_requests_total"] = "ai_metrics is refused (no AI plugins)",
        ["kong_ai_llm_cost_total"] = "ai_metrics is refused (no AI plugins)",
        ["kong_ai_llm_tokens_total"] = "ai_metrics is refused (no AI plugins)",
        ["kong_ai_llm_provider_latency_ms"] = "ai_metrics is refused (no AI plugins)",
    };

    /// <summary>Gatehouse's own node families (Wasm is off here, so no gatehouse_wasm_*).</summary>
    private static readonly string[] GatehouseFamilies = ["gatehouse_memory_managed_heap_bytes", "gatehouse_memory_working_set_bytes"];

    private static readonly double[] KongLatencyBuckets = [1, 2, 5, 7, 10, 15, 20, 30, 50, 75, 100, 200, 500, 750, 1000, 3000, 6000];
    private static readonly double[] UpstreamLatencyBuckets = [25, 50, 80, 100, 250, 400, 700, 1000, 2000, 5000, 10000, 30000, 60000];

    private PluginGateway _gw = null!;
    private readonly HttpClient _scraper = new();

    public async Task InitializeAsync() => _gw = await PluginGateway.StartAsync();

    public async Task DisposeAsync()
    {
        _scraper.Dispose();
        await _gw.DisposeAsync();
    }

    private Task<string> AdminMetricsAsync() => _gw.Admin.GetStringAsync("/metrics");
    private Task<string> StatusMetricsAsync() => _scraper.GetStringAsync(new Uri(_gw.StatusUri, "/metrics"));

    private static SortedSet<string> Families(string text) => new(text.Split('\n')
        .Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]), StringComparer.Ordinal);

    /// <summary>The value of the series written exactly as <paramref name="series"/>, or null.</summary>
    private static double? Value(string text, string series) => text.Split('\n')
        .Where(l => l.StartsWith(series + " ", StringComparison.Ordinal))
        .Select(l => (double?)double.Parse(l[(series.Length + 1)..], CultureInfo.InvariantCulture)).SingleOrDefault();

    private async Task<HttpStatusCode> GetAsync(string path, string? apiKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (apiKey is not null) request.Headers.Add("apikey", apiKey);
        using var response = await _gw.Proxy.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>Polls (bounded) until the proxy answers <paramref name="expected"/>: the configuration has arrived.</summary>
    private async Task UntilAsync(string path, HttpStatusCode expected)
    {
        for (var i = 0; i < 500 && await GetAsync(path) != expected; i++) await Task.Delay(20);
        Assert.Equal(expected, await GetAsync(path));
    }

    private async Task SetUpTrafficAsync(object prometheusConfig)
    {
        await _gw.CreateAsync("/plugins", new { name = "prometheus", config = prometheusConfig });
        await _gw.ServiceAndRouteAsync("svc", "/api");
        await _gw.CreateAsync("/services", new { name = "down", url = $"http://127.0.0.1:{EchoUpstream.ClosedPort()}" });
        await _gw.CreateAsync("/services/down/routes", new { name = "down-route", paths = new[] { "/down" } });
        await _gw.CreateAsync("/services", new { name = "authed", url = $"http://127.0.0.1:{_gw.Upstream.Port}" });
        await _gw.CreateAsync("/services/authed/routes", new { name = "auth-route", paths = new[] { "/auth" } });
        await _gw.CreateAsync("/upstreams", new { name = "up.internal" });
        await _gw.CreateAsync("/upstreams/up.internal/targets", new { target = $"127.0.0.1:{_gw.Upstream.Port}" });
        await _gw.CreateAsync("/consumers", new { username = "alice" });
        await _gw.CreateAsync("/consumers/alice/key-auth", new { key = "alice-key" });
        await _gw.CreateAsync("/routes/auth-route/plugins", new { name = "key-auth" });
        await UntilAsync("/auth", HttpStatusCode.Unauthorized); // created last: everything before it is live
        Assert.Equal(HttpStatusCode.OK, await GetAsync("/api"));
        Assert.Equal(HttpStatusCode.NotFound, await GetAsync("/nowhere"));
        Assert.Equal(HttpStatusCode.BadGateway, await GetAsync("/down"));
        Assert.Equal(HttpStatusCode.OK, await GetAsync("/auth", "alice-key"));
    }

    private static readonly object AllOn = new
    {
        status_code_metrics = true, latency_metrics = true, bandwidth_metrics = true, per_consumer = true, upstream_health_metrics = true,
    };

    [Fact]
    public async Task Both_listeners_export_kongs_families_name_by_name_except_the_documented_omissions()
    {
        await SetUpTrafficAsync(AllOn);
        var expected = new SortedSet<string>(KongFamilies.Except(Omitted.Keys).Concat(GatehouseFamilies), StringComparer.Ordinal);
        foreach (var text in new[] { await AdminMetricsAsync(), await StatusMetricsAsync() })
        {
            var families = Families(text);
            Assert.Equal(expected, new SortedSet<string>(families.Where(f => f.StartsWith("kong_", StringComparison.Ordinal)
                || f.StartsWith("gatehouse_", StringComparison.Ordinal)), StringComparer.Ordinal));
            foreach (var omitted in Omitted.Keys) Assert.DoesNotContain(omitted, families);
        }
    }

    [Fact]
    public async Task Requests_are_counted_with_kongs_labels_source_and_consumer_and_nothing_for_a_request_without_route()
    {
        await SetUpTrafficAsync(AllOn);
        var text = await StatusMetricsAsync();
        Assert.Equal(1, Value(text, "kong_http_requests_total{service=\"svc\",route=\"svc-route\",code=\"200\",source=\"service\",workspace=\"default\",consumer=\"\"}"));
        Assert.Equal(1, Value(text, "kong_http_requests_total{service=\"down\",route=\"down-route\",code=\"502\",source=\"kong\",workspace=\"default\",consumer=\"\"}"));
        Assert.Equal(1, Value(text, "kong_http_requests_total{service=\"authed\",route=\"auth-route\",code=\"200\",source=\"service\",workspace=\"default\",consumer=\"alice\"}"));
        Assert.True(Value(text, "kong_http_requests_total{service=\"authed\",route=\"auth-route\",code=\"401\",source=\"kong\",workspace=\"default\",consumer=\"\"}") >= 1);
        Assert.DoesNotContain("code=\"404\"", text, StringComparison.Ordinal); // Kong's exporter records nothing without a route
        Assert.True(Value(text, "kong_bandwidth_bytes{service=\"svc\",route=\"svc-route\",direction=\"egress\",workspace=\"default\",consumer=\"\"}") > 0);
        Assert.True(Value(text, "kong_bandwidth_bytes{service=\"authed\",route=\"auth-route\",direction=\"egress\",workspace=\"default\",consumer=\"alice\"}") > 0);
        Assert.Equal(1, Value(text, "kong_request_latency_ms_count{service=\"svc\",route=\"svc-route\",workspace=\"default\"}"));
        Assert.Equal(1, Value(text, "kong_upstream_latency_ms_count{service=\"svc\",route=\"svc-route\",workspace=\"default\"}"));
        Assert.Equal(1, Value(text, "kong_kong_latency_ms_count{service=\"svc\",route=\"svc-route\",workspace=\"default\"}"));
        Assert.Equal(1, Value(text, $"kong_upstream_target_health{{upstream=\"up.internal\",target=\"127.0.0.1:{_gw.Upstream.Port}\",address=\"127.0.0.1:{_gw.Upstream.Port}\",state=\"healthchecks_off\",subsystem=\"http\"}}"));
    }

    [Fact]
    public async Task Latency_histograms_have_kongs_buckets()
    {
        await SetUpTrafficAsync(AllOn);
        var text = await AdminMetricsAsync();
        Assert.Equal(KongLatencyBuckets, Bounds(text, "kong_kong_latency_ms"));
        Assert.Equal(UpstreamLatencyBuckets, Bounds(text, "kong_upstream_latency_ms"));
        Assert.Equal(UpstreamLatencyBuckets, Bounds(text, "kong_request_latency_ms"));
    }

    /// <summary>The finite <c>le</c> bounds of the svc route's series of <paramref name="family"/> (+Inf checked present).</summary>
    private static double[] Bounds(string text, string family)
    {
        var prefix = family + "_bucket{service=\"svc\",route=\"svc-route\",workspace=\"default\",le=\"";
        var les = text.Split('\n').Where(l => l.StartsWith(prefix, StringComparison.Ordinal))
            .Select(l => l[prefix.Length..l.IndexOf('"', prefix.Length)]).ToList();
        Assert.Equal("+Inf", les[^1]);
        return [.. les.SkipLast(1).Select(le => double.Parse(le, CultureInfo.InvariantCulture))];
    }

    [Fact]
    public async Task Node_families_report_the_listeners_counters_the_datastore_and_the_node()
    {
        await SetUpTrafficAsync(AllOn);
        var (_, root) = await _gw.GetAsync("/");
        var nodeId = (string)root!["node_id"]!;
        var text = await StatusMetricsAsync();
        Assert.Equal(1, Value(text, $"kong_node_info{{node_id=\"{nodeId}\",version=\"3.9.3\"}}"));
        Assert.Equal(1, Value(text, "kong_datastore_reachable"));
        // at least the five checked proxy requests, the admin calls and this scrape
        Assert.True(Value(text, $"kong_nginx_requests_total{{node_id=\"{nodeId}\",subsystem=\"http\"}}") >= 6);
        Assert.Equal(Value(text, $"kong_nginx_requests_total{{node_id=\"{nodeId}\",subsystem=\"http\"}}"),
            Value(text, $"kong_nginx_connections_total{{node_id=\"{nodeId}\",subsystem=\"http\",state=\"total\"}}"));
        Assert.True(Value(text, $"kong_nginx_connections_total{{node_id=\"{nodeId}\",subsystem=\"http\",state=\"accepted\"}}") >= 1);
        Assert.True(Value(text, $"kong_nginx_connections_total{{node_id=\"{nodeId}\",subsystem=\"http\",state=\"active\"}}") >= 1); // this scrape's
        Assert.True(Value(text, $"kong_nginx_connections_total{{node_id=\"{nodeId}\",subsystem=\"http\",state=\"writing\"}}") >= 1); // this scrape
        var pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        Assert.True(Value(text, $"gatehouse_memory_managed_heap_bytes{{node_id=\"{nodeId}\",pid=\"{pid}\"}}") > 0);
        Assert.True(Value(text, $"gatehouse_memory_working_set_bytes{{node_id=\"{nodeId}\",pid=\"{pid}\"}}") > 0);
    }

    [Fact]
    public async Task Flags_off_leave_each_family_out_and_no_plugin_leaves_every_traffic_family_out()
    {
        await SetUpTrafficAsync(new { status_code_metrics = false, latency_metrics = false, bandwidth_metrics = false, upstream_health_metrics = false });
        var families = Families(await StatusMetricsAsync());
        foreach (var family in new[] { "kong_http_requests_total", "kong_kong_latency_ms", "kong_upstream_latency_ms", "kong_request_latency_ms",
                     "kong_bandwidth_bytes", "kong_upstream_target_health" })
            Assert.DoesNotContain(family, families);
        Assert.Contains("kong_nginx_requests_total", families);

        // the status family only, then the plugin deleted: Kong stops exporting the per-request families (local_only)
        var plugin = (await _gw.GetAsync("/plugins")).Body!["data"]!.AsArray().Single(p => (string)p!["name"]! == "prometheus")!;
        var (patched, _) = await _gw.SendAsync(HttpMethod.Patch, $"/plugins/{plugin["id"]}", new { config = new { status_code_metrics = true } });
        Assert.Equal(200, patched);
        for (var i = 0; i < 500 && !(await StatusMetricsAsync()).Contains("kong_http_requests_total{", StringComparison.Ordinal); i++)
            await GetAsync("/api");
        families = Families(await StatusMetricsAsync());
        Assert.Contains("kong_http_requests_total", families);
        Assert.DoesNotContain("kong_kong_latency_ms", families);
        Assert.DoesNotContain("kong_bandwidth_bytes", families);
        var (deleted, _) = await _gw.SendAsync(HttpMethod.Delete, $"/plugins/{plugin["id"]}");
        Assert.Equal(204, deleted);
        for (var i = 0; i < 500 && (await StatusMetricsAsync()).Contains("kong_http_requests_total{", StringComparison.Ordinal); i++)
            await Task.Delay(20);
        families = Families(await StatusMetricsAsync());
        Assert.DoesNotContain("kong_http_requests_total", families);
        Assert.Contains("kong_node_info", families);
    }

    [Fact]
    public async Task Ai_metrics_true_is_refused_naming_the_field()
    {
        var (status, body) = await _gw.PostAsync("/plugins", new { name = "prometheus", config = new { ai_metrics = true } });
        Assert.Equal(400, status);
        Assert.Contains("ai_metrics is not implemented", body!.ToJsonString(), StringComparison.Ordinal);
        var (ok, _) = await _gw.PostAsync("/plugins", new { name = "prometheus", config = new { ai_metrics = false } });
        Assert.Equal(201, ok);
    }

    [Fact]
    public async Task Metrics_answers_405_to_other_methods_on_both_listeners()
    {
        using var admin = await _gw.Admin.PostAsync("/metrics", null);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, admin.StatusCode);
        using var status = await _scraper.PostAsync(new Uri(_gw.StatusUri, "/metrics"), null);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, status.StatusCode);
    }

    [Fact]
    public async Task Datastore_reachable_comes_from_a_real_query_and_is_1_db_less()
    {
        using var dir = new TempDir();
        var db = dir.File("gh.db");
        using var client = new HttpClient();
        await using (var host = await Gatehouse.Tests.Hosting.StatusTests.StartAsync(new GatehouseOptions { Prefix = dir.Path, SqlitePath = db }))
        {
            var status = host.Addresses(ListenerKind.Status).Single();
            Assert.Equal(1, Value(await client.GetStringAsync(new Uri(status, "/metrics")), "kong_datastore_reachable"));
            // the file is no longer a database (the store opens it for every query)
            await File.WriteAllBytesAsync(db, Encoding.ASCII.GetBytes(new string('x', 8192)));
            Assert.Equal(0, Value(await client.GetStringAsync(new Uri(status, "/metrics")), "kong_datastore_reachable"));
            Assert.Equal(0, Value(await client.GetStringAsync(new Uri(host.Addresses(ListenerKind.Admin).Single(), "/metrics")), "kong_datastore_reachable"));
        }
        var yml = dir.File("kong.yml");
        await File.WriteAllTextAsync(yml, "_format_version: \"3.0\"\n");
        await using var dbLess = await Gatehouse.Tests.Hosting.StatusTests.StartAsync(new GatehouseOptions { Prefix = dir.Path, Database = DatabaseKind.Off, DeclarativeConfig = yml });
        Assert.Equal(1, Value(await client.GetStringAsync(new Uri(dbLess.Addresses(ListenerKind.Status).Single(), "/metrics")), "kong_datastore_reachable"));
    }

    [Fact]
    public async Task Without_the_prometheus_plugin_loaded_no_listener_serves_metrics()
    {
        await using var gw = await PluginGateway.StartAsync(configure: o => o with { Plugins = ["key-auth"] });
        using var admin = await gw.Admin.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, admin.StatusCode);
        using var status = await _scraper.GetAsync(new Uri(gw.StatusUri, "/metrics"));
        Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gw.Admin.GetAsync("/status")).StatusCode);
    }
}
