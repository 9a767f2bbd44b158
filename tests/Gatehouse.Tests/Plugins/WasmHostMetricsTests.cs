using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Wasm;

namespace Gatehouse.Tests.Plugins;

/// <summary>
/// Issue #15 item 3, Gatehouse's own Wasm families on <c>/metrics</c> (docs/metrics.md): VMs and linear memory per
/// filter, callback duration histograms per filter and callback, traps and deadline hits, after real requests through
/// the chaos filter (filters/test/chaos: <c>x-chaos: trap</c> executes <c>unreachable</c>, <c>spin</c> loops to
/// the deadline).
/// </summary>
public sealed class WasmHostMetricsTests : IAsyncLifetime
{
    private string _filters = null!;
    private PluginGateway _gw = null!;

    public async Task InitializeAsync()
    {
        _filters = WasmPaths.CopyFilters(Path.Combine(WasmPaths.Repo, "filters", "test"), "chaos");
        _gw = await PluginGateway.StartAsync(configure: o => o with { Wasm = true, WasmFiltersPath = _filters });
        await _gw.ServiceAndRouteAsync("svc", "/chaos");
        await _gw.CreateAsync("/routes/svc-route/filter-chains", JsonNode.Parse("""{"filters":[{"name":"chaos"}]}""")!.ToJsonString());
    }

    public async Task DisposeAsync()
    {
        await _gw.DisposeAsync();
        Directory.Delete(_filters, recursive: true);
    }

    private async Task<HttpStatusCode> ChaosAsync(string? mode)
    {
        using var request = ProxyRequests.Get("/chaos");
        if (mode is not null) request.Headers.Add("x-chaos", mode);
        using var response = await _gw.Proxy.SendAsync(request);
        return response.StatusCode;
    }

    private static double? Value(string text, string series) => text.Split('\n')
        .Where(l => l.StartsWith(series + " ", StringComparison.Ordinal))
        .Select(l => (double?)double.Parse(l[(series.Length + 1)..], CultureInfo.InvariantCulture)).SingleOrDefault();

    [Fact]
    public async Task Traps_deadline_hits_vms_and_callback_durations_are_exported_per_filter()
    {
        for (var i = 0; i < 500 && await ChaosAsync(null) != HttpStatusCode.OK; i++) await Task.Delay(20); // the chain is live
        Assert.Equal(HttpStatusCode.OK, await ChaosAsync("ok"));
        Assert.Equal(HttpStatusCode.InternalServerError, await ChaosAsync("trap"));
        Assert.Equal(HttpStatusCode.InternalServerError, await ChaosAsync("trap"));
        Assert.Equal(HttpStatusCode.InternalServerError, await ChaosAsync("spin"));

        using var status = new HttpClient();
        var text = await status.GetStringAsync(new Uri(_gw.StatusUri, "/metrics"));
        Assert.Equal(2, Value(text, "gatehouse_wasm_traps_total{filter=\"chaos\"}"));
        Assert.Equal(1, Value(text, "gatehouse_wasm_deadline_hits_total{filter=\"chaos\"}"));
        Assert.True(Value(text, "gatehouse_wasm_vms{filter=\"chaos\"}") >= 1);
        Assert.True(Value(text, "gatehouse_memory_wasm_linear_bytes{filter=\"chaos\"}") >= 65536); // at least one wasm page
        Assert.Contains("# TYPE gatehouse_wasm_callback_duration_ms histogram", text, StringComparison.Ordinal);
        // every request ran proxy_on_request_headers once: the polls, "ok", two traps and the spin
        var count = Value(text, "gatehouse_wasm_callback_duration_ms_count{filter=\"chaos\",callback=\"proxy_on_request_headers\"}");
        Assert.True(count >= 5, $"count {count}");
        Assert.Equal(count, Value(text, "gatehouse_wasm_callback_duration_ms_bucket{filter=\"chaos\",callback=\"proxy_on_request_headers\",le=\"+Inf\"}"));
        // the spin ran to its deadline: its duration is in the sum
        Assert.True(Value(text, "gatehouse_wasm_callback_duration_ms_sum{filter=\"chaos\",callback=\"proxy_on_request_headers\"}") > 1);
        // the same on the Admin API
        Assert.Contains("gatehouse_wasm_traps_total{filter=\"chaos\"} 2", await _gw.Admin.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_requests_share_a_bounded_number_of_vms_and_a_trap_fails_only_its_own_request()
    {
        for (var i = 0; i < 500 && await ChaosAsync(null) != HttpStatusCode.OK; i++) await Task.Delay(20); // the chain is live
        var statuses = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            using var request = ProxyRequests.Get("/chaos");
            if (i % 25 == 0) request.Headers.Add("x-chaos", "trap");
            using var response = await _gw.Proxy.SendAsync(request);
            var ran = response.Headers.TryGetValues("x-chaos", out var v) && v.Single() == "ok";
            return (Trap: i % 25 == 0, Status: (int)response.StatusCode, Ran: ran);
        }));
        Assert.All(statuses.Where(s => s.Trap), s => Assert.Equal(500, s.Status));
        Assert.All(statuses.Where(s => !s.Trap), s => Assert.Equal((200, true), (s.Status, s.Ran)));

        using var status = new HttpClient();
        var text = await status.GetStringAsync(new Uri(_gw.StatusUri, "/metrics"));
        // one filter entry runs min(cores, 4) VMs while each holds fewer than wasm_contexts_per_vm requests (each VM holds many contexts)
        Assert.InRange(Value(text, "gatehouse_wasm_vms{filter=\"chaos\"}") ?? -1, 1, Gatehouse.Wasm.FilterPluginCache.PoolSize);
        Assert.Equal(8, Value(text, "gatehouse_wasm_traps_total{filter=\"chaos\"}"));
    }
}
