using System.Collections.Immutable;
using Gatehouse.Model;
using Gatehouse.Proxy.Pipeline;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Wasm;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary>Filter chains executed by the real gateway with the example filters (C, ABI 0.2.1) and the echo upstream.</summary>
public sealed class FilterChainProxyTests : IAsyncLifetime
{
    private EchoUpstream _upstream = null!;
    private GatewayFixture _gateway = null!;
    private ServiceModel _service = null!;
    private RouteModel _route = null!;

    public async Task InitializeAsync()
    {
        _upstream = await EchoUpstream.StartAsync();
        _gateway = await GatewayFixture.StartAsync(configure: o => o with { Wasm = true, WasmFiltersPath = WasmPaths.Examples });
        _service = TestConfig.Service(_upstream);
        _route = TestConfig.Route(_service, "r1", paths: ["/"]);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private void Publish(params FilterChainModel[] chains) =>
        _gateway.Publish(TestConfig.Of([_service], [_route]) with { FilterChains = [.. chains] });

    private FilterChainModel Chain(Guid? service, Guid? route, params FilterEntryModel[] filters) => new()
    {
        Id = Guid.NewGuid(), ServiceId = service, RouteId = route, Filters = [.. filters],
    };

    private static FilterEntryModel AddHeaders(string reqName, string reqValue, string? respName = null, string? respValue = null) =>
        new("add-headers", true, new System.Text.Json.Nodes.JsonObject
        {
            ["request"] = new System.Text.Json.Nodes.JsonObject { ["add"] = new System.Text.Json.Nodes.JsonObject { [reqName] = reqValue } },
            ["response"] = new System.Text.Json.Nodes.JsonObject { ["add"] = new System.Text.Json.Nodes.JsonObject { [respName ?? "x-resp"] = respValue ?? reqValue } },
        }.ToJsonString());

    [Fact]
    public async Task Service_chain_then_route_chain_edit_upstream_request_and_client_response()
    {
        Publish(Chain(_service.Id, null, AddHeaders("x-from-service", "service", "x-order", "service")),
                Chain(null, _route.Id, AddHeaders("x-from-route", "route", "x-order", "route")));
        using var response = await _gateway.Client.SendAsync(ProxyRequests.Get("/hello"));
        var echo = await response.EchoAsync();
        Assert.Equal("service", echo.Header("x-from-service"));
        Assert.Equal("route", echo.Header("x-from-route"));
        // add-headers sets (replaces): the route chain runs after the service chain, so its value wins.
        Assert.Equal("route", response.Single("x-order"));
    }

    [Fact]
    public async Task Headers_only_filter_leaves_the_request_body_and_its_content_length_alone()
    {
        // add-headers exports no body callback: no request-body phase, so the upstream gets the length, not chunks.
        Publish(Chain(null, _route.Id, AddHeaders("x-a", "1")));
        var request = ProxyRequests.Get("/", method: "POST");
        request.Content = new StringContent("hello body");
        using var response = await _gateway.Client.SendAsync(request);
        var echo = await response.EchoAsync();
        Assert.Equal("1", echo.Header("x-a"));
        Assert.Equal("hello body", echo.Body);
        Assert.Equal("10", echo.Header("content-length"));
        Assert.Null(echo.Header("transfer-encoding"));
    }

    [Fact]
    public async Task Disabled_chains_and_filters_do_not_run()
    {
        var disabledChain = Chain(_service.Id, null, AddHeaders("x-a", "1")) with { Enabled = false };
        var routeChain = Chain(null, _route.Id, AddHeaders("x-b", "2") with { Enabled = false }, AddHeaders("x-c", "3"));
        Publish(disabledChain, routeChain);
        using var response = await _gateway.Client.SendAsync(ProxyRequests.Get("/"));
        var echo = await response.EchoAsync();
        Assert.Null(echo.Header("x-a"));
        Assert.Null(echo.Header("x-b"));
        Assert.Equal("3", echo.Header("x-c"));
    }

    [Fact]
    public async Task Local_response_ends_the_request_with_the_filters_status_headers_and_body()
    {
        Publish(Chain(null, _route.Id, new FilterEntryModel("require-header", true,
            """{"header":"x-api-key","status":401,"body":"missing x-api-key\n","headers":{"www-authenticate":"ApiKey"}}""")));
        using var denied = await _gateway.Client.SendAsync(ProxyRequests.Get("/"));
        Assert.Equal(401, (int)denied.StatusCode);
        Assert.Equal("ApiKey", denied.Single("www-authenticate"));
        Assert.Equal("missing x-api-key\n", await denied.Content.ReadAsStringAsync());
        var ok = ProxyRequests.Get("/");
        ok.Headers.Add("x-api-key", "k");
        using var allowed = await _gateway.Client.SendAsync(ok);
        Assert.Equal(200, (int)allowed.StatusCode);
    }

    [Fact]
    public async Task After_a_local_response_every_filter_of_the_chain_still_runs_its_response_steps()
    {
        Publish(Chain(null, _route.Id,
            new FilterEntryModel("require-header", true, """{"header":"x-api-key","status":401}"""),
            AddHeaders("x-never", "sent", "x-after-local", "yes")));
        using var denied = await _gateway.Client.SendAsync(ProxyRequests.Get("/"));
        Assert.Equal(401, (int)denied.StatusCode);
        Assert.Equal("yes", denied.Single("x-after-local"));
    }

    [Fact]
    public async Task Response_body_is_rewritten()
    {
        Publish(Chain(null, _route.Id, new FilterEntryModel("body-rewrite", true, """{"append":"-- tail"}""")));
        using var response = await _gateway.Client.SendAsync(ProxyRequests.Get("/x"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.EndsWith("-- tail", body);
        Assert.StartsWith("{", body);
    }

    [Fact]
    public async Task A_body_rewritten_in_one_piece_leaves_with_its_exact_new_content_length()
    {
        Publish(Chain(null, _route.Id, new FilterEntryModel("body-rewrite", true, """{"append":"-- tail"}""")));
        using var response = await _gateway.Client.SendAsync(ProxyRequests.Get("/bytes/100"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(new string('a', 100) + "-- tail", body);
        Assert.Equal(107, response.Content.Headers.ContentLength);
        Assert.NotEqual(true, response.Headers.TransferEncodingChunked);
    }

    [Fact]
    public async Task A_body_filter_that_changes_nothing_keeps_the_upstream_length()
    {
        Publish(Chain(null, _route.Id, new FilterEntryModel("body-rewrite", true, """{"find":"zzz","replace":"y"}""")));
        using var response = await _gateway.Client.SendAsync(ProxyRequests.Get("/bytes/64"));
        Assert.Equal(new string('a', 64), await response.Content.ReadAsStringAsync());
        Assert.Equal(64, response.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task A_body_arriving_in_pieces_goes_out_chunked_and_whole()
    {
        // the filter buffers until the end of stream; the first output comes at the end, so the length is exact again
        Publish(Chain(null, _route.Id, new FilterEntryModel("body-rewrite", true, """{"prefix":"<<","append":">>"}""")));
        using var response = await _gateway.Client.SendAsync(ProxyRequests.Get("/bytes/3000?chunks=3"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal("<<" + new string('a', 3000) + ">>", body);
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task Head_through_a_body_filter_keeps_the_upstream_content_length()
    {
        // content_type does not match: the filter leaves the headers alone (it removes content-length when it rewrites)
        Publish(Chain(null, _route.Id, new FilterEntryModel("body-rewrite", true, """{"append":"-- tail","content_type":"application/json"}""")));
        using var response = await _gateway.Client.SendAsync(ProxyRequests.Get("/bytes/100", method: "HEAD"));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(100, response.Content.Headers.ContentLength);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Plugin_short_circuit_in_access_means_no_filter_runs()
    {
        await using var gateway = await GatewayFixture.StartAsync(
            configure: o => o with { Wasm = true, WasmFiltersPath = WasmPaths.Examples },
            services: s => s.Insert(0, ServiceDescriptor.Singleton<IPhasePlanContributor>(new DenyingContributor())));
        // registered first, as plugins are: it answers before the chain attaches
        gateway.Publish(TestConfig.Of([_service], [_route]) with
        {
            FilterChains = [Chain(null, _route.Id, new FilterEntryModel("request-counter", true, """{"key":"deny-test"}"""))],
        });
        using var response = await gateway.Client.SendAsync(ProxyRequests.Get("/"));
        Assert.Equal(403, (int)response.StatusCode);
        Assert.Null(response.Single("x-request-count"));
    }

    [Fact]
    public async Task Unchanged_filter_entries_are_reused_across_snapshots()
    {
        var entry = new FilterEntryModel("request-counter", true, """{"key":"reuse-test"}""");
        Publish(Chain(null, _route.Id, entry));
        using (var first = await _gateway.Client.SendAsync(ProxyRequests.Get("/"))) Assert.Equal("1", first.Single("x-request-count"));
        var cache = _gateway.Host.Services.GetRequiredService<WasmFilterRuntime>().Plugins!;
        var created = cache.Created;
        Publish(Chain(null, _route.Id, entry), Chain(_service.Id, null, AddHeaders("x-new", "1")));
        using (var second = await _gateway.Client.SendAsync(ProxyRequests.Get("/"))) Assert.Equal("2", second.Single("x-request-count"));
        Assert.Equal(created + 1, cache.Created); // only the new add-headers entry was built
    }

    /// <summary>A C# handler that answers 403 in access, as a plugin would.</summary>
    private sealed class DenyingContributor : IPhasePlanContributor, IAccessHandler
    {
        public string Name => "deny";
        public void Contribute(GatewayConfig config, RouteModel? route, ServiceModel? service, PhasePlanBuilder builder)
        {
            if (route is not null) builder.Add(this);
        }
        public ValueTask<PhaseOutcome> OnAccessAsync(ProxyContext context) => ValueTask.FromResult(context.Exit(403, "denied"));
    }
}
