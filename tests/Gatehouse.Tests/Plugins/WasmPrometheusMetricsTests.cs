using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Wasm;

namespace Gatehouse.Tests.Plugins;

/// <summary>
/// The prometheus plugin's <c>/metrics</c> (status listener) also exports the Proxy-Wasm filter metrics, Kong 3.9
/// style: <c>pw:&lt;filter&gt;:&lt;metric&gt;</c> keys become names with underscores, labels come from the filter's
/// meta.json <c>metrics.label_patterns</c>. Real gateway, real <c>request-counter</c> filter (counter metric).
/// </summary>
public sealed class WasmPrometheusMetricsTests : IAsyncLifetime
{
    private string _filters = null!;
    private PluginGateway _gw = null!;

    public async Task InitializeAsync()
    {
        _filters = WasmPaths.CopyFilters(WasmPaths.Examples, "request-counter");
        // the example meta.json plus Kong-style label patterns: "..._route=<name>" in a metric name is a label
        var meta = JsonNode.Parse(File.ReadAllText(Path.Combine(_filters, "request-counter.meta.json")))!.AsObject();
        meta["metrics"] = JsonNode.Parse("""{"label_patterns":[{"label":"route","pattern":"(_route=([a-z0-9]+))"}]}""");
        File.WriteAllText(Path.Combine(_filters, "request-counter.meta.json"), meta.ToJsonString());
        File.Copy(Path.Combine(WasmPaths.Repo, "filters", "test", "shared.wasm"), Path.Combine(_filters, "shared.wasm"));
        _gw = await PluginGateway.StartAsync(configure: o => o with { Wasm = true, WasmFiltersPath = _filters });
    }

    public async Task DisposeAsync()
    {
        await _gw.DisposeAsync();
        Directory.Delete(_filters, recursive: true);
    }

    private async Task Route(string name, string metric)
    {
        await _gw.ServiceAndRouteAsync(name, "/" + name);
        await _gw.CreateAsync($"/routes/{name}-route/filter-chains", JsonNode.Parse("""
            {"filters":[{"name":"request-counter","config":{"key":"KEY","metric":"METRIC"}}]}
            """.Replace("KEY", name, StringComparison.Ordinal).Replace("METRIC", metric, StringComparison.Ordinal))!.ToJsonString());
    }

    private async Task Hit(string path, int times)
    {
        for (var i = 0; i < times; i++)
        {
            using var response = await _gw.Proxy.SendAsync(ProxyRequests.Get(path));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task Filter_counters_are_exported_with_kong_names_and_pattern_labels()
    {
        await _gw.CreateAsync("/plugins", new { name = "prometheus" });
        await Route("one", "hits_route=one");
        await Route("two", "hits_route=two");
        await Route("plain", "plain_total");
        await Hit("/one", 2);
        await Hit("/two", 3);
        await Hit("/plain", 1);

        using var client = new HttpClient();
        var text = await client.GetStringAsync(new Uri(_gw.StatusUri, "/metrics"));
        var lines = text.Split('\n');
        Assert.Contains("# TYPE pw_request_counter_hits counter", lines);
        Assert.Contains("pw_request_counter_hits{route=\"one\"} 2", lines);
        Assert.Contains("pw_request_counter_hits{route=\"two\"} 3", lines);
        Assert.Contains("# TYPE pw_request_counter_plain_total counter", lines);
        Assert.Contains("pw_request_counter_plain_total 1", lines);
        Assert.Single(lines, l => l.StartsWith("# TYPE pw_request_counter_hits ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("route=one", StringComparison.Ordinal) && !l.StartsWith('#'));
        // the plugin's own families are still there
        Assert.Contains(lines, l => l.StartsWith("kong_http_requests_total", StringComparison.Ordinal) || l.StartsWith("# TYPE kong_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Filter_gauges_and_histograms_use_prometheus_types_and_cumulative_buckets()
    {
        await _gw.ServiceAndRouteAsync("sh", "/sh");
        await _gw.CreateAsync("/routes/sh-route/filter-chains", """{"filters":[{"name":"shared","config":"{\"metric_prefix\":\"t_\"}"}]}""");
        foreach (var value in new[] { "5", "100" })
        {
            using var request = ProxyRequests.Get("/sh");
            request.Headers.Add("x-metric-record", value);
            using var response = await _gw.Proxy.SendAsync(request);
            Assert.Equal("0", response.Headers.GetValues("x-metric-record-status").Single());
        }

        using var client = new HttpClient();
        var lines = (await client.GetStringAsync(new Uri(_gw.StatusUri, "/metrics"))).Split('\n');
        Assert.Contains("# TYPE pw_shared_t_requests_total counter", lines);
        Assert.Contains("pw_shared_t_requests_total 2", lines);
        Assert.Contains("# TYPE pw_shared_t_last_value gauge", lines);
        Assert.Contains("pw_shared_t_last_value 100", lines);
        Assert.Contains("# TYPE pw_shared_t_values histogram", lines);
        // power-of-two buckets: 5 falls in le=8, 100 in le=128; counts are cumulative
        Assert.Contains("pw_shared_t_values_bucket{le=\"4\"} 0", lines);
        Assert.Contains("pw_shared_t_values_bucket{le=\"8\"} 1", lines);
        Assert.Contains("pw_shared_t_values_bucket{le=\"64\"} 1", lines);
        Assert.Contains("pw_shared_t_values_bucket{le=\"128\"} 2", lines);
        Assert.Contains("pw_shared_t_values_bucket{le=\"+Inf\"} 2", lines);
        Assert.Contains("pw_shared_t_values_sum 105", lines);
        Assert.Contains("pw_shared_t_values_count 2", lines);
    }
}
