using Gatehouse.Tests.Infrastructure;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary>
/// Issue #16 goal 4: a gateway without filters does not pay for Wasmtime. With <c>wasm = off</c>, or <c>wasm = on</c>
/// and no filter in the catalog, no engine is created and neither libwasmtime.so nor Wasmtime.Dotnet.dll is mapped
/// (together ~13 MB of resident code once compiling has touched it: bench/NOTES.md). Runs the real executable and
/// reads its /proc/PID/maps; the filter case is the control that the check sees the library when it is there.
/// </summary>
public sealed class LazyWasmtimeTests
{
    private static async Task<bool> MapsWasmtimeAsync(GatewayProcess gateway)
    {
        var maps = await gateway.MemoryMapsAsync();
        return maps.Contains("libwasmtime", StringComparison.Ordinal) || maps.Contains("Wasmtime.Dotnet.dll", StringComparison.Ordinal);
    }

    private static async Task AssertServesAsync(GatewayProcess gateway)
    {
        using var client = new HttpClient();
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync(new Uri(gateway.ProxyUri, "/x"))).StatusCode);
    }

    [Fact]
    public async Task Wasm_off_maps_no_wasmtime()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await GatewayProcess.StartDbLessAsync(GatewayProcess.OneRouteYml(upstream.Port));
        await AssertServesAsync(gateway);
        Assert.False(await MapsWasmtimeAsync(gateway));
    }

    [Fact]
    public async Task Wasm_on_without_filters_maps_no_wasmtime_and_with_a_filter_it_does()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var empty = Directory.CreateTempSubdirectory("gatehouse-wasm-empty-").FullName;
        var filters = WasmPaths.CopyFilters(Path.Combine(WasmPaths.Repo, "filters", "test"), "noop");
        try
        {
            await using (var gateway = await GatewayProcess.StartDbLessAsync(GatewayProcess.OneRouteYml(upstream.Port), empty))
            {
                await AssertServesAsync(gateway);
                Assert.False(await MapsWasmtimeAsync(gateway));
            }
            await using (var gateway = await GatewayProcess.StartDbLessAsync(GatewayProcess.OneRouteYml(upstream.Port), filters))
            {
                await AssertServesAsync(gateway);
                Assert.True(await MapsWasmtimeAsync(gateway));
            }
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
            Directory.Delete(filters, recursive: true);
        }
    }
}
