using Gatehouse.Model;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Wasm;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Wasm;

/// <summary>
/// <c>wasm_contexts_per_vm</c> / <c>wasm_max_vms_per_filter</c> through the whole gateway: requests held in flight by a
/// slow upstream keep their filter contexts alive; with a bound the filter entry grows to its cap as they arrive, and
/// shrinks back to its pool size after; without one it stays at the pool size (one VM set per entry, as Envoy).
/// </summary>
public sealed class ContextsPerVmTests
{
    private static readonly int PoolSize = FilterPluginCache.PoolSize;

    [Theory]
    [InlineData(2, 5)]
    [InlineData(0, 5)]
    public async Task Requests_in_flight_above_the_bound_grow_the_entry_to_its_cap_and_it_shrinks_back_after(int contextsPerVm, int maxVms)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await GatewayFixture.StartAsync(configure: o => o with
        {
            Wasm = true, WasmFiltersPath = WasmPaths.Examples, WasmContextsPerVm = contextsPerVm, WasmMaxVmsPerFilter = maxVms,
        });
        var service = TestConfig.Service(upstream);
        var route = TestConfig.Route(service, "r1", paths: ["/"]);
        gateway.Publish(TestConfig.Of([service], [route]) with
        {
            FilterChains = [new FilterChainModel
            {
                Id = Guid.NewGuid(), RouteId = route.Id,
                Filters = [new FilterEntryModel("add-headers", true, """{"request":{"add":{"x-a":"1"}}}""")],
            }],
        });
        var cache = gateway.Host.Services.GetRequiredService<WasmFilterRuntime>().Plugins!;
        int Vms() => cache.LinearMemoryByFilter().Where(f => f.Filter == "add-headers").Sum(f => f.Vms);
        using (var warm = await gateway.Client.SendAsync(ProxyRequests.Get("/"))) Assert.Equal("1", (await warm.EchoAsync()).Header("x-a"));
        Assert.Equal(PoolSize, Vms());

        // 4 requests per VM of the cap, 50 ms apart (a VM started for the bound takes the requests that come after it),
        // each held 3 s by the upstream with its context alive
        var inFlight = new List<Task<string?>>();
        int most = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 4 * maxVms; i++)
        {
            inFlight.Add(Task.Run(async () =>
            {
                using var response = await gateway.Client.SendAsync(ProxyRequests.Get("/delay/3000"));
                return (await response.EchoAsync()).Header("x-a");
            }));
            await Task.Delay(50);
            most = Math.Max(most, Vms());
        }
        while (clock.Elapsed < TimeSpan.FromSeconds(2.5) && most < maxVms)
        {
            await Task.Delay(20);
            most = Math.Max(most, Vms());
        }
        Assert.Equal(contextsPerVm == 0 ? PoolSize : maxVms, most);
        Assert.All(await Task.WhenAll(inFlight), a => Assert.Equal("1", a)); // every request ran the filter, on whichever VM

        await Eventually.TrueAsync(() => Vms() == PoolSize, "the extra VMs to stop", TimeSpan.FromSeconds(10));
        using var after = await gateway.Client.SendAsync(ProxyRequests.Get("/"));
        Assert.Equal("1", (await after.EchoAsync()).Header("x-a"));
    }
}
