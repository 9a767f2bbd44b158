using Gatehouse.Tests.Infrastructure;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary>
/// meta.json <c>root_id</c>/<c>vm_id</c> (Gatehouse extension, Envoy's fields) with a real AssemblyScript SDK filter
/// (filters/assemblyscript/as_my_root.wasm) that registers its root context under "my_root" only, on the full gateway
/// (SQLite, Admin API). The same module is enabled twice: <c>as_my_root</c> with <c>{"root_id":"my_root","vm_id":"vm-a"}</c>
/// and <c>as_unnamed</c> without metadata (root id "", the default).
/// </summary>
public sealed class FilterRootIdTests : IAsyncLifetime
{
    private readonly string _filters = Directory.CreateTempSubdirectory("gatehouse-rootid-").FullName;
    private EchoUpstream _upstream = null!;
    private WasmGateway _gw = null!;

    public async Task InitializeAsync()
    {
        var wasm = Path.Combine(WasmPaths.Repo, "filters", "assemblyscript", "as_my_root.wasm");
        File.Copy(wasm, Path.Combine(_filters, "as_my_root.wasm"));
        File.WriteAllText(Path.Combine(_filters, "as_my_root.meta.json"), """{"root_id":"my_root","vm_id":"vm-a"}""");
        File.Copy(wasm, Path.Combine(_filters, "as_unnamed.wasm"));
        _upstream = await EchoUpstream.StartAsync();
        _gw = await WasmGateway.StartAsync(dbless: false, filtersPath: _filters);
        await _gw.ServiceAndRouteAsync("svc", _upstream.Port);
    }

    public async Task DisposeAsync()
    {
        await _gw.DisposeAsync();
        await _upstream.DisposeAsync();
        Directory.Delete(_filters, true);
    }

    [Fact]
    public async Task A_filter_registered_under_a_name_runs_when_meta_json_names_its_root_id()
    {
        var (status, body) = await _gw.PostAsync("/routes/svc-route/filter-chains", """{"filters":[{"name":"as_my_root"}]}""");
        Assert.True(status == 201, body?.ToJsonString());
        using var response = await _gw.Proxy.SendAsync(ProxyRequests.Get("/svc"));
        var echo = await response.EchoAsync();
        Assert.Equal("my_root", echo.Header("x-as-root-id"));
        Assert.Equal("vm-a", echo.Header("x-as-vm-id"));
        Assert.Equal("my_root", response.Single("x-as-root-id"));
    }

    [Fact]
    public async Task Without_root_id_the_filter_cannot_start_and_the_error_says_what_to_set()
    {
        var (status, error) = await _gw.PostAsync("/routes/svc-route/filter-chains", """{"filters":[{"name":"as_unnamed"}]}""");
        Assert.Equal(400, status);
        var message = error!["fields"]!["filters"]![0]!["config"]!.GetValue<string>();
        Assert.Contains("filter rejected its configuration (on_context_create)", message);
        Assert.Contains("Missing root context factory for root id: ", message); // the SDK's own words
        Assert.Contains("set \"root_id\" in as_unnamed.meta.json", message);
        Assert.Equal(404, (await _gw.GetAsync("/routes/svc-route/filter-chains/x")).Status);
        Assert.Empty((await _gw.GetAsync("/filter-chains")).Body!["data"]!.AsArray());
    }

    [Fact]
    public async Task A_declarative_file_using_the_filter_without_root_id_stops_a_DB_less_start_naming_root_id()
    {
        var file = Path.Combine(_filters, "kong.yml");
        await File.WriteAllTextAsync(file, $"""
            _format_version: "3.0"
            services:
              - name: s
                url: http://127.0.0.1:{_upstream.Port}
                routes:
                  - name: r
                    paths: [/r]
                    filter_chains:
                      - filters: [{"{"}name: as_unnamed{"}"}]
            """);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => WasmGateway.StartAsync(dbless: true, filtersPath: _filters,
            configure: o => o with { DeclarativeConfig = file }));
        Assert.Contains("set \"root_id\" in as_unnamed.meta.json", e.Message);
        File.Delete(file);
    }

    [Fact]
    public void A_root_id_that_is_not_a_string_stops_the_start()
    {
        var dir = WasmPaths.CopyFilters(_filters, "as_unnamed");
        try
        {
            File.WriteAllText(Path.Combine(dir, "as_unnamed.meta.json"), """{"root_id":7}""");
            var e = Assert.Throws<Gatehouse.Wasm.WasmStartupException>(() => Gatehouse.Wasm.WasmFilterCatalog.Load(
                new Gatehouse.Config.GatehouseOptions { Wasm = true, WasmFiltersPath = dir, WasmFilters = ["user"] }));
            Assert.Contains("file contains invalid metadata: property root_id validation failed: wrong type: expected string", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
