using Gatehouse.Model;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Plugins;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Wasm;

/// <summary>
/// Kong 04-proxy-wasm cases in the log phase: "does NOT add response headers on_log": by the log phase the response is on the wire, so the
/// host refuses the edit (the filter logs the non-OK status), the client never sees the header, and the request
/// itself is unaffected.
/// </summary>
public sealed class KongOnLogHeaderTests : IAsyncLifetime
{
    private readonly FilterLogCapture _logs = new();
    private EchoUpstream _upstream = null!;
    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await EchoUpstream.StartAsync();
        _gateway = await GatewayFixture.StartAsync(
            configure: o => o with { Wasm = true, WasmFiltersPath = WasmPaths.KongTests, LogLevel = "info" },
            services: s => s.AddSingleton<ILoggerProvider>(_logs));
        var service = TestConfig.Service(_upstream) with { Name = "echo-svc" };
        var route = TestConfig.Route(service, "kong-route", paths: ["/"]);
        _gateway.Publish(TestConfig.Of([service], [route]) with
        {
            FilterChains = [new FilterChainModel { Id = Guid.NewGuid(), RouteId = route.Id, Filters = [new("tests", true, "")] }],
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Response_header_added_on_log_is_refused_and_never_reaches_the_client()
    {
        var request = ProxyRequests.Get("/kong");
        request.Headers.TryAddWithoutValidation("X-PW-Phase", "log");
        request.Headers.TryAddWithoutValidation("X-PW-Add-Resp-Header", "X-Late=on-log");
        using var response = await _gateway.Client.SendAsync(request);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.False(response.Headers.Contains("X-Late"));
        // the step ran in on_log and the host answered the edit with a non-OK status
        await _logs.WaitForAsync(m => m.Contains("testing in \"Log\"", StringComparison.Ordinal));
        await _logs.WaitForAsync(m => m.Contains("failed with status", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Service_response_status_read_on_log_is_the_upstreams()
    {
        // Kong's pending "read kong.service.response.status": the log phase cannot answer, so the filter logs the value
        var request = ProxyRequests.Get("/kong");
        request.Headers.TryAddWithoutValidation("X-PW-Phase", "log");
        request.Headers.TryAddWithoutValidation("X-PW-Test", "get_kong_property");
        request.Headers.TryAddWithoutValidation("X-PW-Input", "service.response.status");
        using var response = await _gateway.Client.SendAsync(request);
        Assert.Equal(200, (int)response.StatusCode);
        await _logs.WaitForAsync(m => m.Contains("kong.service.response.status: \"200\"", StringComparison.Ordinal));
    }
}
