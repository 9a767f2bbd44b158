using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Wasm;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary>Filters as plugins in declarative configuration (DB-less, Kong 3.9 §2.5) and the plugin/filter name
/// collision at start (§1.1 point 5).</summary>
public sealed class FilterPluginDbLessTests : IAsyncLifetime
{
    private readonly string _filters = WasmPaths.MixedFilters();
    private EchoUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await EchoUpstream.StartAsync();

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        Directory.Delete(_filters, true);
    }

    private string Yaml(string routePlugins, string topLevel = "") => $"""
        _format_version: "3.0"
        services:
          - name: test
            url: http://127.0.0.1:{_upstream.Port}
            routes:
              - name: test
                paths: [/dbless]
        {routePlugins}
        {topLevel}
        """;

    private static Task<(int, JsonNode?)> PostConfig(WasmGateway gw, string yaml) =>
        gw.PostAsync("/config?flatten_errors=1", new JsonObject { ["config"] = yaml }.ToJsonString());

    [Fact]
    public async Task Nested_and_top_level_filter_plugins_run_after_the_route_chain()
    {
        await using var gw = await WasmGateway.StartAsync(dbless: true, filtersPath: _filters);
        var (status, body) = await PostConfig(gw, Yaml("""
                    filter_chains:
                      - filters:
                          - name: response_transformer
                            config: '{"append":{"headers":["X-Order:chain"]}}'
                    plugins:
                      - name: response_transformer_with_schema
                        config: {append: {headers: ["X-Order:nested-plugin"]}}
            """, """
            plugins:
              - name: response_transformer
                route: test
                config: '{"append":{"headers":["X-Order:top-plugin"]}}'
            """));
        Assert.True(status == 201, body?.ToJsonString());
        using var response = await gw.Proxy.SendAsync(ProxyRequests.Get("/dbless"));
        Assert.Equal(["chain", "top-plugin", "nested-plugin"], response.Headers.GetValues("X-Order"));
    }

    [Fact]
    public async Task Invalid_filter_plugins_give_flattened_plugin_errors_on_config()
    {
        await using var gw = await WasmGateway.StartAsync(dbless: true, filtersPath: _filters);
        var (status, body) = await PostConfig(gw, Yaml("""
                    plugins:
                      - name: rt_with_validation
                        config: {}
            """, """
            plugins:
              - name: response_transformer
                config: "{}"
            """));
        Assert.Equal(400, status);
        var items = body!["flattened_errors"]!.AsArray();
        Assert.All(items, i => Assert.Equal("plugin", i!["entity_type"]!.GetValue<string>()));
        var errors = items.SelectMany(i => i!["errors"]!.AsArray()).Select(e => $"{e!["type"]}:{e["field"]}={e["message"]}").ToList();
        Assert.Contains("field:config=property add is required", errors);
        Assert.Contains("entity:=at least one of these fields must be non-empty: 'service', 'route'", errors);
    }

    [Fact]
    public async Task A_filter_named_like_a_plugin_is_refused_at_start()
    {
        File.Copy(Path.Combine(_filters, "response_transformer.wasm"), Path.Combine(_filters, "cors.wasm"));
        var e = await Assert.ThrowsAsync<WasmStartupException>(() => WasmGateway.StartAsync(dbless: true, filtersPath: _filters));
        Assert.Equal("duplicate plugin/wasm filter name: cors", e.Message);
        // not enabled by the selection: no clash
        await using var gw = await WasmGateway.StartAsync(dbless: true, filtersPath: _filters,
            configure: o => o with { WasmFilters = ["response_transformer"] });
        Assert.Equal(200, (await gw.GetAsync("/")).Status);
    }
}
