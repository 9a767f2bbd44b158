using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary>
/// Kong 3.9.3's 03-runtime cases, for both strategies: the same 16 services/routes (one host each), with service and
/// route chains of Kong's <c>response_transformer</c> fixture appending <c>X-Proxy-Wasm: &lt;value&gt;</c>, built
/// through the Admin API (SQLite) or one <c>POST /config</c> (DB-less) on the real gateway; each host's response
/// carries exactly the values of the enabled filters of enabled chains, service chain first.
/// </summary>
public sealed class FilterChainRuntimeTests : IAsyncLifetime
{
    private const string Header = "X-Proxy-Wasm";
    private EchoUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await EchoUpstream.StartAsync();
    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    /// <summary>A chain: enabled flag and its filters as (value, enabled).</summary>
    private sealed record Chain(bool Enabled, params (string Value, bool Enabled)[] Filters);

    /// <summary>One Kong fixture: host name, service chain, route chain, expected header values (empty = no header).</summary>
    private sealed record Setup(string Host, Chain? Service, Chain? Route, string[] Expected);

    private static Chain On(params string[] values) => new(true, [.. values.Select(v => (v, true))]);

    private static readonly Setup[] Setups =
    [
        new("service.test", On("service.test"), null, ["service.test"]),
        new("route.test", null, On("route.test"), ["route.test"]),
        new("service-and-route.test", On("service"), On("route"), ["service", "route"]),
        new("service-disabled.test", On("service-disabled.test") with { Enabled = false }, null, []),
        new("route-disabled.test", null, On("route-disabled.test") with { Enabled = false }, []),
        new("service-disabled.route-enabled.test", On("service") with { Enabled = false }, On("route"), ["route"]),
        new("service-enabled.route-disabled.test", On("service"), On("route") with { Enabled = false }, ["service"]),
        new("service-disabled.route-disabled.test", On("service") with { Enabled = false }, On("route") with { Enabled = false }, []),
        new("service-partial-disabled.test", new Chain(true, ("disabled", false), ("enabled", true)), null, ["enabled"]),
        new("route-partial-disabled.test", null, new Chain(true, ("disabled", false), ("enabled", true)), ["enabled"]),
        new("combined-partial-disabled.test", new Chain(true, ("service-enabled", true), ("service-disabed", false)),
            new Chain(true, ("route-disabled", false), ("route-enabled", true)), ["service-enabled", "route-enabled"]),
        new("service-fully-disabled.test", new Chain(true, ("disabled", false), ("also-disabled", false)), null, []),
        new("route-fully-disabled.test", null, new Chain(true, ("disabled", false), ("also-disabled", false)), []),
        new("combined-fully-disabled.test", new Chain(true, ("service-disabled", false), ("service-also-disabled", false)),
            new Chain(true, ("route-disabled", false), ("route-also-disabled", false)), []),
        new("combined-service-filters-disabled.test", new Chain(true, ("service-disabled", false), ("service-also-disabled", false)),
            new Chain(true, ("route-enabled", true), ("route-disabled", false)), ["route-enabled"]),
        new("combined-route-filters-disabled.test", new Chain(true, ("service-disabled", false), ("service-enabled", true)),
            new Chain(true, ("route-disabled", false), ("route-also-disabled", false)), ["service-enabled"]),
    ];

    private static JsonObject ChainJson(Chain chain) => new()
    {
        ["enabled"] = chain.Enabled,
        ["filters"] = new JsonArray([.. chain.Filters.Select(f => (JsonNode)new JsonObject
        {
            ["name"] = "response_transformer",
            ["enabled"] = f.Enabled,
            ["config"] = new JsonObject { ["append"] = new JsonObject { ["headers"] = new JsonArray($"{Header}:{f.Value}") } }.ToJsonString(),
        })]),
    };

    private JsonObject ServiceJson(Setup s) => new() { ["name"] = s.Host, ["url"] = $"http://127.0.0.1:{_upstream.Port}" };
    private static JsonObject RouteJson(Setup s) => new() { ["name"] = s.Host, ["paths"] = new JsonArray("/"), ["hosts"] = new JsonArray(s.Host) };

    private async Task BuildWithAdminApi(WasmGateway gw, IEnumerable<Setup> setups)
    {
        foreach (var s in setups)
        {
            Assert.Equal(201, (await gw.PostAsync("/services", ServiceJson(s).ToJsonString())).Status);
            Assert.Equal(201, (await gw.PostAsync($"/services/{s.Host}/routes", RouteJson(s).ToJsonString())).Status);
            if (s.Service is { } sc)
            {
                var (status, body) = await gw.PostAsync($"/services/{s.Host}/filter-chains", ChainJson(sc).ToJsonString());
                Assert.True(status == 201, body?.ToJsonString());
            }
            if (s.Route is { } rc)
            {
                var (status, body) = await gw.PostAsync($"/routes/{s.Host}/filter-chains", ChainJson(rc).ToJsonString());
                Assert.True(status == 201, body?.ToJsonString());
            }
        }
    }

    private JsonObject Declarative(IEnumerable<Setup> setups)
    {
        var services = new JsonArray();
        foreach (var s in setups)
        {
            var route = RouteJson(s);
            if (s.Route is { } rc) route["filter_chains"] = new JsonArray(ChainJson(rc));
            var service = ServiceJson(s);
            service["routes"] = new JsonArray(route);
            if (s.Service is { } sc) service["filter_chains"] = new JsonArray(ChainJson(sc));
            services.Add(service);
        }
        return new JsonObject { ["_format_version"] = "3.0", ["services"] = services };
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Enabled_filters_of_enabled_chains_run_service_chain_first(bool dbless)
    {
        await using var gw = await WasmGateway.StartAsync(dbless, filtersPath: WasmPaths.KongTests);
        if (dbless)
        {
            var (status, body) = await gw.PostAsync("/config", new JsonObject { ["config"] = Declarative(Setups).ToJsonString() }.ToJsonString());
            Assert.True(status == 201, body?.ToJsonString());
        }
        else await BuildWithAdminApi(gw, Setups);
        foreach (var setup in Setups)
        {
            using var response = await gw.Proxy.SendAsync(ProxyRequests.Get("/", host: setup.Host));
            Assert.Equal(200, (int)response.StatusCode);
            var values = response.Headers.TryGetValues(Header, out var v) ? v.ToArray() : [];
            Assert.True(setup.Expected.SequenceEqual(values), $"{setup.Host}: expected [{string.Join(", ", setup.Expected)}], got [{string.Join(", ", values)}]");
        }
    }
}
