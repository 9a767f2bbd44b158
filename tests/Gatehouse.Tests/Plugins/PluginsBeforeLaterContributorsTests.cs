using System.Collections.Concurrent;
using System.Net;
using Gatehouse.Model;
using Gatehouse.Proxy.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Plugins;

/// <summary>
/// Plugins run before any contributor registered after them (the Wasm filter chains' position), in every phase,
/// and a plugin rejection in access stops later access handlers. A recording stand-in takes the filters' place
/// here; the same checks with real Wasm filters belong with the filter-chain work once both are merged.
/// </summary>
public sealed class PluginsBeforeLaterContributorsTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<string> _calls = new();
    private PluginGateway _gw = null!;

    private sealed class Recorder(ConcurrentQueue<string> calls) : IAccessHandler, IResponseHeadersHandler
    {
        public string Name => "later-filter";

        public ValueTask<PhaseOutcome> OnAccessAsync(ProxyContext context)
        {
            calls.Enqueue("access:later " + context.HttpContext.Request.Headers["X-Consumer-Username"]);
            return ValueTask.FromResult(PhaseOutcome.Continue);
        }

        public ValueTask OnResponseHeadersAsync(ProxyContext context)
        {
            calls.Enqueue("header:later " + context.HttpContext.Response.Headers["X-RateLimit-Limit-Hour"]);
            return ValueTask.CompletedTask;
        }
    }

    private sealed class LaterContributor(ConcurrentQueue<string> calls) : IPhasePlanContributor
    {
        private readonly Recorder _recorder = new(calls);

        public void Contribute(GatewayConfig config, RouteModel? route, ServiceModel? service, PhasePlanBuilder builder)
        {
            if (route is not null) builder.Add(_recorder);
        }
    }

    public async Task InitializeAsync()
    {
        _gw = await PluginGateway.StartAsync(s => s.AddSingleton<IPhasePlanContributor>(new LaterContributor(_calls)));
        await _gw.ServiceAndRouteAsync("svc", "/api");
        await _gw.CreateAsync("/consumers", new { username = "alice" });
        await _gw.CreateAsync("/consumers/alice/key-auth", new { key = "k" });
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "key-auth" });
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "rate-limiting", config = new { hour = 1 } });
    }

    public async Task DisposeAsync() => await _gw.DisposeAsync();

    private async Task<HttpStatusCode> Send(string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api");
        if (key is not null) request.Headers.Add("apikey", key);
        using var response = await _gw.Proxy.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task Later_handlers_see_plugin_effects_and_are_skipped_after_rejections()
    {
        Assert.Equal(HttpStatusCode.OK, await Send("k"));
        // the later access handler sees key-auth's upstream header; the later header handler sees rate-limiting's headers
        Assert.Equal(["access:later alice", "header:later 1"], _calls.ToArray());

        _calls.Clear();
        Assert.Equal(HttpStatusCode.Unauthorized, await Send(null));
        Assert.DoesNotContain(_calls, c => c.StartsWith("access:", StringComparison.Ordinal));

        _calls.Clear();
        Assert.Equal((HttpStatusCode)429, await Send("k"));
        Assert.DoesNotContain(_calls, c => c.StartsWith("access:", StringComparison.Ordinal));

        var (_, plan) = await _gw.GetAsync("/routes/svc-route/plan");
        var access = plan!["phases"]!["access"]!.AsArray().Select(h => (string)h!["name"]!).ToArray();
        Assert.Equal(["key-auth", "rate-limiting", "later-filter"], access);
        Assert.Equal("core", (string?)plan["phases"]!["access"]![2]!["kind"]);
    }
}
