using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Plugins;

namespace Gatehouse.Tests.Wasm;

/// <summary>
/// <c>GET /filters</c>' runtime figures of each loaded filter (the Manager's filters and plan pages): VMs, traps,
/// deadline hits and guest callback counts/durations after real requests through the chaos filter, and the hot-reload
/// history after a refused and an accepted reload through the real file watcher.
/// </summary>
public sealed class FiltersEndpointFiguresTests : IAsyncLifetime
{
    private string _filters = null!;
    private PluginGateway _gw = null!;

    public async Task InitializeAsync()
    {
        _filters = WasmPaths.CopyFilters(Path.Combine(WasmPaths.Repo, "filters", "test"), "chaos");
        // "swap" starts as add-headers and is replaced on disk below
        File.Copy(Path.Combine(WasmPaths.Examples, "add-headers.wasm"), Path.Combine(_filters, "swap.wasm"));
        _gw = await PluginGateway.StartAsync(configure: o => o with { Wasm = true, WasmFiltersPath = _filters });
        await _gw.ServiceAndRouteAsync("svc", "/chaos");
        await _gw.CreateAsync("/routes/svc-route/filter-chains", JsonNode.Parse(
            """{"filters":[{"name":"chaos"},{"name":"swap","config":"{\"request\":{\"add\":{\"x-swap\":\"1\"}},\"name\":\"n\"}"}]}""")!.ToJsonString());
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

    private async Task<JsonNode> FilterAsync(string name)
    {
        var (status, body) = await _gw.GetAsync("/filters");
        Assert.Equal(200, status);
        return body!["data"]!.AsArray().Single(f => (string?)f!["name"] == name)!;
    }

    private static long Calls(JsonNode filter, string callback) =>
        filter["callbacks"]!.AsArray().Where(c => (string?)c!["callback"] == callback).Select(c => (long)c!["count"]!).SingleOrDefault();

    [Fact]
    public async Task Loaded_filters_report_vms_traps_deadline_hits_and_callback_figures()
    {
        var before = await FilterAsync("chaos");
        Assert.Equal(0, (long)before["traps"]!);
        Assert.Equal(0, (long)before["deadline_hits"]!);
        Assert.Empty(before["reloads"]!.AsArray());

        for (var i = 0; i < 500 && await ChaosAsync(null) != HttpStatusCode.OK; i++) await Task.Delay(20); // the chain is live
        var calls = Calls(await FilterAsync("chaos"), "proxy_on_request_headers");
        Assert.Equal(HttpStatusCode.InternalServerError, await ChaosAsync("trap"));
        Assert.Equal(HttpStatusCode.InternalServerError, await ChaosAsync("trap"));
        Assert.Equal(HttpStatusCode.InternalServerError, await ChaosAsync("spin"));
        Assert.Equal(HttpStatusCode.OK, await ChaosAsync(null));

        var chaos = await FilterAsync("chaos");
        Assert.Equal(2, (long)chaos["traps"]!);
        Assert.Equal(1, (long)chaos["deadline_hits"]!);
        Assert.True((int)chaos["vms"]! >= 1);
        Assert.True((long)chaos["linear_memory_bytes"]! >= 65536);
        Assert.Equal(calls + 4, Calls(chaos, "proxy_on_request_headers"));
        var headers = chaos["callbacks"]!.AsArray().Single(c => (string?)c!["callback"] == "proxy_on_request_headers")!;
        Assert.True((double)headers["sum_ms"]! > 1); // the spin ran to its deadline
        // the request that passed chaos ran swap too
        Assert.True(Calls(await FilterAsync("swap"), "proxy_on_request_headers") >= 1);
    }

    [Fact]
    public async Task Hot_reload_attempts_are_listed_refused_and_accepted()
    {
        var original = (string)(await FilterAsync("swap"))["hash"]!;
        // body-rewrite rejects the configuration in use: refused, the old module stays
        await ReplaceAsync(Path.Combine(WasmPaths.Examples, "body-rewrite.wasm"), 1);
        // config-check accepts it: taken
        await ReplaceAsync(Path.Combine(WasmPaths.Repo, "filters", "test", "config-check.wasm"), 2);

        var swap = await FilterAsync("swap");
        var reloads = swap["reloads"]!.AsArray();
        Assert.False((bool)reloads[0]!["accepted"]!);
        Assert.Equal(original, (string?)reloads[0]!["previous_hash"]);
        Assert.Contains("rejected", (string?)reloads[0]!["error"]);
        Assert.NotEqual(original, (string?)reloads[0]!["hash"]);
        Assert.True((bool)reloads[1]!["accepted"]!);
        Assert.Equal(original, (string?)reloads[1]!["previous_hash"]);
        Assert.Equal((string?)swap["hash"], (string?)reloads[1]!["hash"]);
        Assert.Null(reloads[1]!["error"]);
        Assert.True((double)reloads[1]!["at"]! >= (double)reloads[0]!["at"]!);
        Assert.True(Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - (double)reloads[1]!["at"]!) < 600);
        Assert.Equal("loaded", (string?)swap["status"]);
    }

    private async Task ReplaceAsync(string source, int attempts)
    {
        var target = Path.Combine(_filters, "swap.wasm");
        File.Copy(source, target + ".tmp", true);
        File.Move(target + ".tmp", target, true);
        for (var i = 0; (await FilterAsync("swap"))["reloads"]!.AsArray().Count < attempts; i++)
        {
            if (i == 600) throw new Xunit.Sdk.XunitException($"reload attempt {attempts} not recorded within 30 s");
            await Task.Delay(50);
        }
    }
}
