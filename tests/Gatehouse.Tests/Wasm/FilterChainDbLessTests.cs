using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary>Filter chains in declarative configuration (Kong §3, 08-declarative / 09-filter-meta) on the real DB-less gateway.</summary>
public sealed class FilterChainDbLessTests : IAsyncLifetime
{
    private readonly string _filters = WasmPaths.MixedFilters();
    private EchoUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await EchoUpstream.StartAsync();

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        Directory.Delete(_filters, true);
    }

    private string Yaml(string routeFilters, string serviceFilters = "", string topLevel = "") => $"""
        _format_version: "3.0"
        services:
          - name: test
            url: http://127.0.0.1:{_upstream.Port}
            routes:
              - name: test
                paths: [/dbless]
        {routeFilters}
        {serviceFilters}
        {topLevel}
        """;

    private static async Task<(int, JsonNode?)> PostConfig(WasmGateway gw, string yaml, bool flatten = false)
    {
        var body = new JsonObject { ["config"] = yaml }.ToJsonString();
        return await gw.PostAsync(flatten ? "/config?flatten_errors=1" : "/config", body);
    }

    [Fact]
    public async Task Nested_service_and_route_chains_apply_in_order()
    {
        await using var gw = await WasmGateway.StartAsync(dbless: true, filtersPath: _filters);
        var (status, body) = await PostConfig(gw, Yaml(
            """
                    filter_chains:
                      - filters:
                          - name: add-headers
                            config: {response: {add: {x-order: route, x-route: "1"}}}
            """,
            """
                filter_chains:
                  - name: svc-chain
                    filters:
                      - name: add-headers
                        config: {request: {add: {x-service: "1"}}, response: {add: {x-order: service}}}
            """));
        Assert.True(status == 201, body?.ToJsonString());
        using var response = await gw.Proxy.SendAsync(ProxyRequests.Get("/dbless"));
        var echo = await response.EchoAsync();
        Assert.Equal("1", echo.Header("x-service"));
        Assert.Equal("1", response.Single("x-route"));
        Assert.Equal("route", response.Single("x-order"));
        var (_, list) = await gw.GetAsync("/filter-chains");
        Assert.Equal(2, list!["data"]!.AsArray().Count);
    }

    [Fact]
    public async Task Top_level_chain_references_route_by_name()
    {
        await using var gw = await WasmGateway.StartAsync(dbless: true, filtersPath: _filters);
        var (status, body) = await PostConfig(gw, Yaml("", "", """
            filter_chains:
              - name: top
                route: test
                filters: [{name: add-headers, config: {request: {add: {x-top: "yes"}}}}]
            """));
        Assert.True(status == 201, body?.ToJsonString());
        var echo = await (await gw.Proxy.SendAsync(ProxyRequests.Get("/dbless"))).EchoAsync();
        Assert.Equal("yes", echo.Header("x-top"));
    }

    [Fact]
    public async Task Invalid_chains_give_flattened_errors()
    {
        await using var gw = await WasmGateway.StartAsync(dbless: true, filtersPath: _filters);
        var (status, body) = await PostConfig(gw, Yaml("""
                    filter_chains:
                      - name: bad
                        filters:
                          - name: nope
                          - name: rt_with_validation
                            config: {}
            """), flatten: true);
        Assert.Equal(400, status);
        Assert.Equal(14, body!["code"]!.GetValue<int>());
        var item = body["flattened_errors"]!.AsArray().Single()!;
        Assert.Equal("filter_chain", item["entity_type"]!.GetValue<string>());
        var errors = item["errors"]!.AsArray().Select(e => $"{e!["field"]}={e["message"]}").ToList();
        Assert.Contains("filters.1.name=no such filter", errors);
        Assert.Contains("filters.2.config=property add is required", errors);
    }

    [Fact]
    public async Task Writes_are_refused_in_dbless_mode()
    {
        await using var gw = await WasmGateway.StartAsync(dbless: true, filtersPath: _filters);
        var (status, body) = await gw.PostAsync("/filter-chains", """{"filters":[{"name":"add-headers","config":{}}]}""");
        Assert.Equal(405, status);
        Assert.Equal("cannot create 'filter_chains' entities when not using a database", body!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task With_wasm_off_config_with_chains_is_rejected_and_endpoints_answer_400()
    {
        await using var gw = await WasmGateway.StartAsync(dbless: true, wasm: false, filtersPath: _filters);
        var (status, body) = await PostConfig(gw, Yaml("""
                    filter_chains:
                      - filters: [{name: add-headers}]
            """), flatten: true);
        Assert.Equal(400, status);
        var errors = body!["flattened_errors"]![0]!["errors"]!.AsArray();
        Assert.Contains(errors, e => e!["type"]!.GetValue<string>() == "entity" && e["message"]!.GetValue<string>() == "wasm support is not enabled");
        Assert.Contains(errors, e => e!["message"]!.GetValue<string>() == "no such filter");
        foreach (var path in new[] { "/filter-chains", "/filter-chains/x", "/routes/test/filter-chains", "/services/test/filter-chains/x", "/routes/test/filters/all" })
        {
            var (s, b) = await gw.GetAsync(path);
            Assert.Equal(400, s);
            Assert.Equal("this endpoint is only available when wasm is enabled", b!["message"]!.GetValue<string>());
        }
        Assert.Equal(400, (await gw.SendAsync(HttpMethod.Delete, "/filter-chains/x")).Status);
        Assert.Equal(404, (await gw.GetAsync("/schemas/filters/add-headers")).Status);
        Assert.Equal(200, (await gw.GetAsync("/schemas/filter_chains")).Status);
    }

    [Fact]
    public async Task With_no_filters_available_chains_are_rejected()
    {
        await using var gw = await WasmGateway.StartAsync(dbless: true, filtersPath: _filters, configure: o => o with { WasmFilters = ["off"] });
        var (status, body) = await PostConfig(gw, Yaml("""
                    filter_chains:
                      - filters: [{name: add-headers}]
            """), flatten: true);
        Assert.Equal(400, status);
        Assert.Contains(body!["flattened_errors"]![0]!["errors"]!.AsArray(), e => e!["message"]!.GetValue<string>() == "no wasm filters are available");
    }

    [Theory]
    [InlineData(false, "wasm support is not enabled")]
    [InlineData(true, "no wasm filters are available")]
    public async Task Start_fails_when_the_declarative_file_uses_chains_without_filters(bool wasm, string expected)
    {
        var file = Path.Combine(_filters, "kong.yml");
        await File.WriteAllTextAsync(file, Yaml("""
                    filter_chains:
                      - filters: [{name: add-headers, config: {}}]
            """));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => WasmGateway.StartAsync(dbless: true, wasm: wasm, filtersPath: _filters,
            configure: o => o with { DeclarativeConfig = file, WasmFilters = ["off"] }));
        Assert.Contains(expected, e.Message);
    }
}
