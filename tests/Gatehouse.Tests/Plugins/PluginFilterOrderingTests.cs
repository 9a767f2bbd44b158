using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Wasm;

namespace Gatehouse.Tests.Plugins;

/// <summary>
/// Issue 5 "done when": plugins and REAL Proxy-Wasm filters on one route through the real proxy. Plugins run before
/// filters in every phase (Kong's "X-Append-Me: lua, filter-chain"), a plugin rejection (request-termination,
/// key-auth 401, rate-limiting 429) stops every filter callback, and <c>/routes/{r}/plan</c> lists plugins then
/// filters. Filters: <c>phases</c> (logs <c>phase:&lt;name&gt; tag=&lt;t&gt;</c> per callback), <c>add-headers</c>
/// and Kong's <c>response_transformer</c> fixture.
/// </summary>
public sealed class PluginFilterOrderingTests : IAsyncLifetime
{
    private readonly FilterLogCapture _logs = new();
    private string _filters = null!;
    private PluginGateway _gw = null!;

    public async Task InitializeAsync()
    {
        _filters = WasmPaths.CopyFilters(WasmPaths.Examples, "add-headers");
        File.Copy(Path.Combine(WasmPaths.Repo, "filters", "test", "phases.wasm"), Path.Combine(_filters, "phases.wasm"));
        File.Copy(Path.Combine(WasmPaths.KongTests, "response_transformer.wasm"), Path.Combine(_filters, "response_transformer.wasm"));
        _gw = await PluginGateway.StartAsync(
            configure: o => o with { Wasm = true, WasmFiltersPath = _filters, LogLevel = "info" },
            logging: l => l.AddProvider(_logs));
    }

    public async Task DisposeAsync()
    {
        await _gw.DisposeAsync();
        Directory.Delete(_filters, recursive: true);
    }

    /// <summary>A route <c>/{name}</c> whose chain is <c>phases</c> (tag = name) then add-headers (request
    /// <c>x-filter-req</c>, response <c>x-filter-resp</c>).</summary>
    private async Task RouteWithFilters(string name)
    {
        await _gw.ServiceAndRouteAsync(name, "/" + name);
        await _gw.CreateAsync($"/routes/{name}-route/filter-chains", JsonNode.Parse("""
            {"filters":[
              {"name":"phases","config":"{\"tag\":\"NAME\"}"},
              {"name":"add-headers","config":{"request":{"add":{"x-filter-req":"NAME"}},"response":{"add":{"x-filter-resp":"NAME"}}}}
            ]}
            """.Replace("NAME", name, StringComparison.Ordinal))!.ToJsonString());
    }

    private static readonly string[] RequestCallbacks =
        ["context_create", "request_headers", "request_body", "response_headers", "response_body", "done", "log", "delete"];

    /// <summary>How many per-request callbacks the <c>phases</c> filter tagged <paramref name="tag"/> logged.</summary>
    private int Ran(string tag) => _logs.Messages.Count(m => RequestCallbacks.Any(c => m == $"phase:{c} tag={tag}"));

    private async Task<HttpResponseMessage> Get(string path, string? apikey = null)
    {
        var request = ProxyRequests.Get(path);
        if (apikey is not null) request.Headers.Add("apikey", apikey);
        return await _gw.Proxy.SendAsync(request);
    }

    [Fact]
    public async Task Plugins_edit_before_filters_in_the_request_and_the_response_phases()
    {
        await _gw.ServiceAndRouteAsync("order", "/order");
        await _gw.CreateAsync("/routes/order-route/plugins", new
        {
            name = "request-transformer",
            config = new { append = new { headers = new[] { "x-order:plugin" } }, add = new { headers = new[] { "x-seen:plugin" } } },
        });
        await _gw.CreateAsync("/routes/order-route/plugins", new
        {
            name = "response-transformer",
            config = new { append = new { headers = new[] { "X-Append-Me:lua" } }, add = new { headers = new[] { "x-resp-order:plugin" } } },
        });
        await _gw.CreateAsync("/routes/order-route/filter-chains", """
            {"filters":[
              {"name":"add-headers","config":{"request":{"add":{"x-order":"filter"}},"response":{"add":{"x-resp-order":"filter"}}}},
              {"name":"response_transformer","config":"{\"append\":{\"headers\":[\"X-Append-Me:filter-chain\"]}}"}
            ]}
            """);

        using var response = await Get("/order");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echo = await response.EchoAsync();
        // add-headers *sets*: had the plugin's append run later, the upstream would see "filter, plugin".
        Assert.Equal("filter", echo.Header("x-order"));
        Assert.Equal("plugin", echo.Header("x-seen"));
        // Kong: the Lua plugin appends first, the filter chain second.
        Assert.Equal(["lua", "filter-chain"], response.Headers.GetValues("X-Append-Me").SelectMany(v => v.Split(", ")).ToArray());
        Assert.Equal(["filter"], response.Headers.GetValues("x-resp-order").ToArray());

        var (_, plan) = await _gw.GetAsync("/routes/order-route/plan");
        var phases = plan!["phases"]!.AsObject();
        foreach (var (phase, handlers) in phases)
        {
            var kinds = handlers!.AsArray().Select(h => (string)h!["kind"]!).Where(k => k is "plugin" or "filter").ToArray();
            var firstFilter = Array.IndexOf(kinds, "filter");
            if (firstFilter >= 0) Assert.DoesNotContain("plugin", kinds[firstFilter..]);
        }
        Assert.Equal(["request-transformer", "add-headers", "response_transformer"], Names(phases["access"]));
        Assert.Equal(["response-transformer", "add-headers", "response_transformer"], Names(phases["response_headers"]));
        // Body phases hold only filters whose module exports the callback (the Rust SDK exports all; add-headers.c none).
        Assert.DoesNotContain("add-headers", Names(phases["request_body"]));
        Assert.DoesNotContain("add-headers", Names(phases["response_body"]));
        Assert.Contains("response_transformer", Names(phases["response_body"]));
    }

    private static string[] Names(JsonNode? handlers) =>
        [.. handlers!.AsArray().Where(h => (string)h!["kind"]! is "plugin" or "filter").Select(h => (string)h!["name"]!)];

    [Fact]
    public async Task Plugin_rejections_stop_every_filter_callback()
    {
        await RouteWithFilters("ok");
        await RouteWithFilters("term");
        await _gw.CreateAsync("/routes/term-route/plugins", new { name = "request-termination", config = new { status_code = 503, message = "closed" } });
        await RouteWithFilters("auth");
        await _gw.CreateAsync("/routes/auth-route/plugins", new { name = "key-auth" });
        await RouteWithFilters("rl");
        await _gw.CreateAsync("/routes/rl-route/plugins", new { name = "rate-limiting", config = new { hour = 1 } });

        // control: the chain on /ok runs and is observable both ways (headers and phase log)
        using (var ok = await Get("/ok"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("ok", (await ok.EchoAsync()).Header("x-filter-req"));
            Assert.Equal(["ok"], ok.Headers.GetValues("x-filter-resp").ToArray());
        }
        await _logs.WaitForAsync("phase:log tag=ok", 1);
        Assert.Equal(1, _logs.Count("phase:request_headers tag=ok"));
        Assert.Equal(1, _logs.Count("phase:response_headers tag=ok"));

        using (var first = await Get("/rl")) Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await _logs.WaitForAsync("phase:log tag=rl", 1);
        var rlBefore = Ran("rl");
        Assert.True(rlBefore >= 4, string.Join(" | ", _logs.Messages)); // context_create, request/response headers, log...

        await AssertRejected("/term", 503, "term");
        await AssertRejected("/auth", 401, "auth");
        await AssertRejected("/rl", 429, "rl");

        // a later request on the same connection whose own log has run: every earlier log phase has run too
        using (var ok = await Get("/ok")) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        await _logs.WaitForAsync("phase:log tag=ok", 2);
        Assert.Equal(0, Ran("term"));
        Assert.Equal(0, Ran("auth"));
        Assert.Equal(rlBefore, Ran("rl"));
        Assert.Equal(1, _logs.Count("phase:log tag=rl"));
    }

    private async Task AssertRejected(string path, int status, string tag)
    {
        using var response = await Get(path);
        Assert.Equal(status, (int)response.StatusCode);
        Assert.False(response.Headers.Contains("x-filter-resp"), $"{path}: a filter ran on_response_headers");
        Assert.Contains($"phase:configure tag={tag}", _logs.Messages); // the filter is configured, just never runs
    }
}
