using Gatehouse.Model;
using Gatehouse.Proxy.Pipeline;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary>
/// Kong's 04-proxy-wasm cases with the Rust <c>tests</c> fixture (filters/rust/kong-tests) on the real gateway:
/// header edits, traps, local responses, kong.* properties, HTTP dispatches.
/// </summary>
public sealed class KongTestsFilterTests : IAsyncLifetime
{
    private EchoUpstream _upstream = null!;
    private GatewayFixture _gateway = null!;
    private ServiceModel _service = null!;
    private RouteModel _route = null!;

    public async Task InitializeAsync()
    {
        _upstream = await EchoUpstream.StartAsync();
        _gateway = await GatewayFixture.StartAsync(
            configure: o => o with { Wasm = true, WasmFiltersPath = WasmPaths.KongTests },
            services: s => s.AddSingleton<IPhasePlanContributor>(new SharedToHeader()));
        _service = TestConfig.Service(_upstream) with { Name = "echo-svc" };
        _route = TestConfig.Route(_service, "kong-route", paths: ["/"]);
        _gateway.Publish(TestConfig.Of([_service], [_route]) with
        {
            FilterChains = [new FilterChainModel { Id = Guid.NewGuid(), RouteId = _route.Id, Filters = [new("tests", true, "")] }],
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private Task<HttpResponseMessage> Send(params (string Name, string Value)[] headers)
    {
        var request = ProxyRequests.Get("/kong");
        foreach (var (n, v) in headers) request.Headers.TryAddWithoutValidation(n, v);
        return _gateway.Client.SendAsync(request);
    }

    [Fact]
    public async Task Adds_request_headers_and_removes_control_headers()
    {
        using var response = await Send(("X-PW-Add-Header", "X-Added=proxy-wasm"), ("X-PW-Input", "x"));
        var echo = await response.EchoAsync();
        Assert.Equal("proxy-wasm", echo.Header("x-added"));
        Assert.Null(echo.Header("x-pw-input"));
    }

    [Fact]
    public async Task A_Via_added_by_a_filter_is_replaced_by_the_gateways_own_as_Kong_does()
    {
        // Kong computes the upstream Via from the client's request before the filter runs (proxy_set_header)
        using var response = await Send(("X-PW-Add-Header", "Via=proxy-wasm"));
        var echo = await response.EchoAsync();
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("1.1 gatehouse/" + GatehouseVersion.Current, echo.Header("via"));
        Assert.Null(echo.Header("x-pw-add-header"));
        // the client's own Via is kept, with the gateway's appended; a filter's X-Forwarded-For does not reach the upstream either
        using var withClientVia = await Send(("Via", "1.0 client-proxy"), ("X-PW-Add-Header", "X-Forwarded-For=10.9.9.9"));
        var echo2 = await withClientVia.EchoAsync();
        Assert.Equal("1.0 client-proxy, 1.1 gatehouse/" + GatehouseVersion.Current, echo2.Header("via"));
        Assert.Equal("127.0.0.1", echo2.Header("x-forwarded-for"));
    }

    [Fact]
    public async Task A_chain_of_two_tests_filters_runs_both_in_order()
    {
        // Kong's "with multiple filters" (r_double: the tests filter twice); each entry has its own configuration
        var route = TestConfig.Route(_service, "double", paths: ["/double"]);
        _gateway.Publish(TestConfig.Of([_service], [_route, route]) with
        {
            FilterChains =
            [
                new FilterChainModel { Id = Guid.NewGuid(), RouteId = _route.Id, Filters = [new("tests", true, "")] },
                new FilterChainModel
                {
                    Id = Guid.NewGuid(), RouteId = route.Id,
                    Filters = [new("tests", true, "add_resp_header=X-Filter=first"), new("tests", true, "add_resp_header=X-Filter=second")],
                },
            ],
        });
        var request = ProxyRequests.Get("/double/status/200");
        request.Headers.Add("X-PW-Add-Header", "X-Added=proxy-wasm");
        using var response = await _gateway.Client.SendAsync(request);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(["first", "second"], response.Headers.GetValues("X-Filter"));
        var echo = await response.EchoAsync();
        Assert.Equal("proxy-wasm", echo.Header("x-added")); // the first entry acted on the control header, and removed it
        Assert.Null(echo.Header("x-pw-add-header"));
    }

    [Theory]
    [InlineData("request_headers")]
    [InlineData("response_headers")]
    public async Task Adds_response_headers(string phase)
    {
        using var response = await Send(("X-PW-Phase", phase), ("X-PW-Add-Resp-Header", "X-Resp=" + phase));
        Assert.Equal(phase, response.Single("x-resp"));
    }

    [Fact]
    public async Task Trap_answers_500_with_Kongs_body_and_the_next_request_succeeds()
    {
        using (var trapped = await Send(("X-PW-Test", "trap")))
        {
            Assert.Equal(500, (int)trapped.StatusCode);
            Assert.Contains("An unexpected error occurred", await trapped.Content.ReadAsStringAsync());
        }
        using var ok = await Send();
        Assert.Equal(200, (int)ok.StatusCode);
    }

    [Fact]
    public async Task Local_response_from_the_filter()
    {
        using var response = await Send(("X-PW-Test", "local_response"), ("X-PW-Input", "hello from wasm"));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("hello from wasm", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("route_id")]
    [InlineData("route_name")]
    [InlineData("service_id")]
    [InlineData("service_name")]
    [InlineData("nginx.subsystem")]
    public async Task Reads_kong_properties(string property)
    {
        using var response = await Send(("X-PW-Test", "get_kong_property"), ("X-PW-Input", property));
        var expected = property switch
        {
            "route_id" => _route.Id.ToString(),
            "route_name" => "kong-route",
            "service_id" => _service.Id.ToString(),
            "service_name" => "echo-svc",
            _ => "http",
        };
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Unknown_kong_property_is_not_found()
    {
        using var response = await Send(("X-PW-Test", "get_kong_property"), ("X-PW-Input", "nope"));
        Assert.Equal(404, (int)response.StatusCode);
    }

    [Fact]
    public async Task Reads_kong_ctx_shared_set_by_another_handler()
    {
        using var response = await Send(("X-PW-Test", "get_kong_property"), ("X-PW-Input", "ctx.shared.foo"), ("X-Lua-Value", "bar"));
        Assert.Equal("bar", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Clears_kong_ctx_shared()
    {
        using var response = await Send(("X-PW-Test", "set_kong_property"), ("X-PW-Input", "ctx.shared.foo"), ("X-Lua-Value", "bar"));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Null(response.Single("x-shared-foo"));
    }

    [Fact]
    public async Task Writes_kong_response_status_in_response_headers()
    {
        using var response = await Send(("X-PW-Test", "set_kong_property"), ("X-PW-Input", "response.status=203"), ("X-PW-Phase", "response_headers"));
        Assert.Equal(203, (int)response.StatusCode);
    }

    [Theory]
    [InlineData("client.protocol", "http")]
    [InlineData("request.forwarded_scheme", "http")]
    public async Task Reads_request_properties(string property, string expected)
    {
        using var response = await Send(("X-PW-Test", "get_kong_property"), ("X-PW-Input", property));
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Reads_forwarded_host_and_port_as_the_request_reached_the_gateway()
    {
        // no trusted proxies: the request's own host and the listener's port (Kong's 04-proxy-wasm only matches a pattern)
        using (var host = await Send(("X-PW-Test", "get_kong_property"), ("X-PW-Input", "request.forwarded_host")))
        {
            Assert.Equal(200, (int)host.StatusCode);
            Assert.Equal(_gateway.ProxyUri.Host, await host.Content.ReadAsStringAsync());
        }
        using var port = await Send(("X-PW-Test", "get_kong_property"), ("X-PW-Input", "request.forwarded_port"));
        Assert.Equal(200, (int)port.StatusCode);
        Assert.Equal(_gateway.ProxyUri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), await port.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Writes_kong_ctx_shared_for_other_handlers()
    {
        using var response = await Send(("X-PW-Test", "set_kong_property"), ("X-PW-Input", "ctx.shared.foo=bar"));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("bar", response.Single("x-shared-foo"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Http_dispatch_to_host_port_or_service_name_resumes_with_the_response(bool byServiceName)
    {
        var host = byServiceName ? "echo-svc" : $"127.0.0.1:{_upstream.Port}";
        using var response = await Send(("X-PW-Test", "echo_http_dispatch"), ("X-PW-Input", $"host={host} path=/dispatched"),
            ("X-PW-Dispatch-Echo", "on"));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains("/dispatched", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Failed_http_dispatch_resumes_the_request_to_the_upstream()
    {
        using var response = await Send(("X-PW-Test", "echo_http_dispatch"),
            ("X-PW-Input", $"host=127.0.0.1:{EchoUpstream.ClosedPort()} path=/x timeout=2s"));
        var echo = await response.EchoAsync();
        Assert.Equal("/kong", echo.Path);
    }

    [Fact]
    public async Task In_flight_request_finishes_on_its_plan_after_the_chain_is_removed_and_released()
    {
        var pending = Send(("X-PW-Test", "echo_http_dispatch"), ("X-PW-Input", $"host=127.0.0.1:{_upstream.Port} path=/delay/1500"),
            ("X-PW-Dispatch-Echo", "on"));
        await Task.Delay(400); // the request is paused in its filter, waiting for the dispatch
        var withoutChain = TestConfig.Of([_service], [_route]);
        _gateway.Publish(withoutChain); // new snapshot without the chain
        _gateway.Publish(withoutChain); // and the next one: the unused filter entry is released by the cache
        using (var fresh = await Send(("X-PW-Test", "local_response"))) Assert.Equal("/kong", (await fresh.EchoAsync()).Path);
        using var response = await pending;
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains("/delay/1500", await response.Content.ReadAsStringAsync());
    }

    /// <summary>Copies <c>kong.ctx.shared.foo</c> to a response header, as a Lua plugin reading kong.ctx.shared would.</summary>
    private sealed class SharedToHeader : IPhasePlanContributor, IResponseHeadersHandler, IRewriteHandler
    {
        public string Name => "shared-to-header";
        public void Contribute(GatewayConfig config, RouteModel? route, ServiceModel? service, PhasePlanBuilder builder) => builder.Add(this);

        /// <summary>Like Kong's pre-function: <c>X-Lua-Value</c> → <c>kong.ctx.shared.foo</c> before the filters run.</summary>
        public ValueTask<PhaseOutcome> OnRewriteAsync(ProxyContext context)
        {
            if (context.HttpContext.Request.Headers.TryGetValue("X-Lua-Value", out var v)) context.Shared["foo"] = v.ToString();
            return ValueTask.FromResult(PhaseOutcome.Continue);
        }

        public ValueTask OnResponseHeadersAsync(ProxyContext context)
        {
            if (context.Shared.TryGetValue("foo", out var v)) context.HttpContext.Response.Headers["x-shared-foo"] = v?.ToString();
            return ValueTask.CompletedTask;
        }
    }
}
