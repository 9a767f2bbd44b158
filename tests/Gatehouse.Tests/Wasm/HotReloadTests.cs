using Gatehouse.Model;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Wasm;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary>Hot reload of a changed .wasm in wasm_filters_path (beyond Kong), through the real file watcher.</summary>
public sealed class HotReloadTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gatehouse-reload-").FullName;
    private EchoUpstream _upstream = null!;
    private GatewayFixture _gateway = null!;
    private string FilterPath => Path.Combine(_dir, "swap.wasm");

    public async Task InitializeAsync()
    {
        // "swap" starts as add-headers (config: object with request.add)
        File.Copy(Path.Combine(WasmPaths.Examples, "add-headers.wasm"), FilterPath);
        _upstream = await EchoUpstream.StartAsync();
        _gateway = await GatewayFixture.StartAsync(configure: o => o with { Wasm = true, WasmFiltersPath = _dir });
        var service = TestConfig.Service(_upstream);
        var route = TestConfig.Route(service, "r", paths: ["/"]);
        _gateway.Publish(TestConfig.Of([service], [route]) with
        {
            FilterChains = [new FilterChainModel
            {
                Id = Guid.NewGuid(), RouteId = route.Id,
                Filters = [new("swap", true, """{"request":{"add":{"x-swap":"1"}},"name":"n"}""")],
            }],
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    private async Task<bool> HasSwapHeader()
    {
        using var response = await _gateway.Client.SendAsync(ProxyRequests.Get("/"));
        return (await response.EchoAsync()).Header("x-swap") == "1";
    }

    private async Task Replace(string source)
    {
        var temp = FilterPath + ".tmp";
        File.Copy(source, temp, true);
        File.Move(temp, FilterPath, true);
        var runtime = _gateway.Host.Services.GetRequiredService<WasmFilterRuntime>();
        var snapshots = _gateway.Host.Services.GetRequiredService<Gatehouse.Proxy.ProxySnapshotProvider>();
        var version = snapshots.Current.Config.Version;
        // an accepted reload swaps the module, then republishes: wait for the recompiled snapshot, not just the swap
        for (var i = 0; i < 100 && snapshots.Current.Config.Version == version && runtime.ReloadError("swap") is null; i++) await Task.Delay(50);
    }

    [Fact]
    public async Task Changed_module_accepting_the_config_is_swapped_in()
    {
        Assert.True(await HasSwapHeader());
        // config-check accepts {"name":"n"} objects: the reload passes and the header edits stop
        await Replace(Path.Combine(WasmPaths.Repo, "filters", "test", "config-check.wasm"));
        Assert.Null(_gateway.Host.Services.GetRequiredService<WasmFilterRuntime>().ReloadError("swap"));
        Assert.False(await HasSwapHeader());
    }

    [Fact]
    public async Task Changed_module_rejecting_a_config_in_use_is_refused_and_the_old_one_stays()
    {
        // body-rewrite needs find/prefix/append: it rejects the config in use
        await Replace(Path.Combine(WasmPaths.Examples, "body-rewrite.wasm"));
        Assert.Contains("rejected", _gateway.Host.Services.GetRequiredService<WasmFilterRuntime>().ReloadError("swap"));
        Assert.True(await HasSwapHeader());
    }

    [Fact]
    public async Task Corrupt_module_is_refused_and_the_old_one_stays()
    {
        var corrupt = Path.Combine(_dir, "corrupt.bin");
        File.WriteAllBytes(corrupt, [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff]);
        await Replace(corrupt);
        Assert.NotNull(_gateway.Host.Services.GetRequiredService<WasmFilterRuntime>().ReloadError("swap"));
        Assert.True(await HasSwapHeader());
    }
}
