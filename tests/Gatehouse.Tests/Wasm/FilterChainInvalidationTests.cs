using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary>Kong's 05-cache-invalidation sequences on the real gateway: after each change (chain created/removed,
/// chain enabled/disabled, filters added/removed, single filters enabled/disabled, re-ordered, config changed) the
/// next request runs exactly the new plan. Every filter entry is the C <c>phases</c> filter appending its tag to the
/// response header <c>x-chain</c>, so the header lists the filters that ran, in order. SQLite through the Admin API
/// (POST, PATCH, DELETE of <c>/filter-chains</c>) and DB-less through <c>POST /config</c>.</summary>
public sealed class FilterChainInvalidationTests : IAsyncLifetime
{
    private EchoUpstream _upstream = null!;
    private string _filters = null!;

    private sealed record Chain(bool Enabled, params (string Tag, bool Enabled)[] Filters)
    {
        public static Chain Of(params string[] tags) => new(true, [.. tags.Select(t => (t, true))]);
    }

    private sealed record State(Chain? Service, Chain? Route)
    {
        public string[] Expected => [.. new[] { Service, Route }.Where(c => c is { Enabled: true })
            .SelectMany(c => c!.Filters.Where(f => f.Enabled).Select(f => f.Tag))];
    }

    /// <summary>Kong's six sequences; each ends with no chain so the next starts clean.</summary>
    private static readonly State[][] Sequences =
    [
        // is invalidated on filter creation and removal
        [new(Chain.Of("service"), null), new(Chain.Of("service"), Chain.Of("route")), new(Chain.Of("service"), null), new(null, null)],
        // is invalidated on update when a filter chain is enabled/disabled
        [new(Chain.Of("service") with { Enabled = false }, Chain.Of("route") with { Enabled = false }),
         new(Chain.Of("service"), Chain.Of("route") with { Enabled = false }),
         new(Chain.Of("service"), Chain.Of("route")),
         new(Chain.Of("service"), Chain.Of("route") with { Enabled = false }),
         new(Chain.Of("service") with { Enabled = false }, Chain.Of("route") with { Enabled = false }), new(null, null)],
        // is invalidated on update when filters are added/removed
        [new(Chain.Of("service"), null), new(Chain.Of("service", "new"), null), new(Chain.Of("new"), null), new(null, null)],
        // is invalidated when filters are enabled/disabled
        [new(Chain.Of("service", "other"), null), new(new Chain(true, ("service", false), ("other", true)), null),
         new(new Chain(true, ("service", true), ("other", false)), null), new(new Chain(true, ("service", false), ("other", false)), null),
         new(null, null)],
        // is invalidated when filters are re-ordered
        [new(Chain.Of("first", "middle", "last"), null), new(Chain.Of("last", "middle", "first"), null), new(null, null)],
        // is invalidated when filter configuration is changed
        [new(Chain.Of("before"), null), new(Chain.Of("after"), null), new(null, null)],
    ];

    public async Task InitializeAsync()
    {
        _upstream = await EchoUpstream.StartAsync();
        _filters = Directory.CreateTempSubdirectory("gatehouse-wasm-").FullName;
        File.Copy(Path.Combine(WasmPaths.Repo, "filters", "test", "phases.wasm"), Path.Combine(_filters, "phases.wasm"));
    }

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        Directory.Delete(_filters, recursive: true);
    }

    private static JsonArray Entries(Chain chain) => [.. chain.Filters.Select(f => (JsonNode)new JsonObject
    {
        ["name"] = "phases",
        ["enabled"] = f.Enabled,
        ["config"] = $$"""{"response_headers":[{"action":"add_header","name":"x-chain","value":"{{f.Tag}}"}]}""",
    })];

    private static async Task AssertRuns(WasmGateway gw, State state, string step)
    {
        using var response = await gw.Proxy.SendAsync(ProxyRequests.Get("/inv"));
        Assert.Equal(200, (int)response.StatusCode);
        var ran = response.Headers.TryGetValues("x-chain", out var values) ? values.SelectMany(v => v.Split(", ")).ToArray() : [];
        Assert.True(state.Expected.SequenceEqual(ran), $"{step}: expected [{string.Join(",", state.Expected)}], ran [{string.Join(",", ran)}]");
    }

    [Fact]
    public async Task Sqlite_admin_api_changes_apply_to_the_next_request()
    {
        await using var gw = await WasmGateway.StartAsync(dbless: false, filtersPath: _filters);
        await gw.ServiceAndRouteAsync("inv", _upstream.Port);
        var current = new State(null, null);
        for (var s = 0; s < Sequences.Length; s++)
            for (var i = 0; i < Sequences[s].Length; i++)
            {
                var next = Sequences[s][i];
                await ApplyAsync(gw, "svc-chain", current.Service, next.Service, """{"name":"inv"}""", "service");
                await ApplyAsync(gw, "route-chain", current.Route, next.Route, """{"name":"inv-route"}""", "route");
                current = next;
                await AssertRuns(gw, next, $"sequence {s} step {i}");
            }
    }

    /// <summary>Create (POST), update (PATCH) or delete (DELETE) one chain to go from <paramref name="from"/> to
    /// <paramref name="to"/>.</summary>
    private static async Task ApplyAsync(WasmGateway gw, string name, Chain? from, Chain? to, string owner, string ownerField)
    {
        if (from == to) return;
        (int Status, JsonNode? Body) result;
        if (to is null) result = await gw.SendAsync(HttpMethod.Delete, $"/filter-chains/{name}");
        else
        {
            var body = new JsonObject { ["enabled"] = to.Enabled, ["filters"] = Entries(to) };
            if (from is null)
            {
                body["name"] = name;
                body[ownerField] = JsonNode.Parse(owner);
                result = await gw.PostAsync("/filter-chains", body.ToJsonString());
            }
            else result = await gw.SendAsync(HttpMethod.Patch, $"/filter-chains/{name}", body.ToJsonString());
        }
        Assert.True(result.Status is 200 or 201 or 204, $"{name}: {result.Status} {result.Body?.ToJsonString()}");
    }

    [Fact]
    public async Task Dbless_config_posts_apply_to_the_next_request()
    {
        await using var gw = await WasmGateway.StartAsync(dbless: true, filtersPath: _filters);
        for (var s = 0; s < Sequences.Length; s++)
            for (var i = 0; i < Sequences[s].Length; i++)
            {
                var next = Sequences[s][i];
                var route = new JsonObject { ["name"] = "inv-route", ["paths"] = new JsonArray("/inv") };
                var service = new JsonObject { ["name"] = "inv", ["url"] = $"http://127.0.0.1:{_upstream.Port}", ["routes"] = new JsonArray(route) };
                if (next.Service is { } sc) service["filter_chains"] = new JsonArray(new JsonObject { ["name"] = "svc-chain", ["enabled"] = sc.Enabled, ["filters"] = Entries(sc) });
                if (next.Route is { } rc) route["filter_chains"] = new JsonArray(new JsonObject { ["name"] = "route-chain", ["enabled"] = rc.Enabled, ["filters"] = Entries(rc) });
                var config = new JsonObject { ["_format_version"] = "3.0", ["services"] = new JsonArray(service) };
                var (status, body) = await gw.PostAsync("/config", new JsonObject { ["config"] = config.ToJsonString() }.ToJsonString());
                Assert.True(status == 201, body?.ToJsonString());
                await AssertRuns(gw, next, $"sequence {s} step {i}");
            }
    }
}
