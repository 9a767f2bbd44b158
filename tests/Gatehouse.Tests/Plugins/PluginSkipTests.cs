using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Plugins;
using Gatehouse.Plugins.Bundled;
using Gatehouse.Proxy.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Plugins;

/// <summary>
/// A plugin with nothing left to do for a request passes over its header_filter and log steps
/// (<see cref="Kong.SkipLaterPhases"/>): the phase loops do not call them. The opentelemetry plugin does so for a request
/// it records nothing of (not sampled), and the deferred-headers step is passed over while no plugin deferred a response
/// header; the trace-id response header still reaches an unsampled request's client. Through the real proxy, upstream
/// and collector; <see cref="StepProbePlugin"/> plugins (priorities 2 and 1, after opentelemetry's 14 in every phase) see
/// which steps ran.
/// </summary>
public sealed class PluginSkipTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<StepProbePlugin.Seen> _seen = new();
    private PluginGateway _gw = null!;
    private OtlpReceiver _collector = null!;

    public async Task InitializeAsync()
    {
        _gw = await PluginGateway.StartAsync(
            s => s.AddSingleton(new PluginCatalog([.. BundledPlugins.Create(),
                new StepProbePlugin("skip-probe", 2, skipsOnHeader: true, _seen), new StepProbePlugin("log-witness", 1, skipsOnHeader: false, _seen)])),
            o => o with { TracingInstrumentations = ["all"], TracingSamplingRate = 0 });
        _collector = await OtlpReceiver.StartAsync();
        await _gw.CreateAsync("/plugins", new { name = "skip-probe", config = new { } });
        await _gw.CreateAsync("/plugins", new { name = "log-witness", config = new { } });
    }

    public async Task DisposeAsync()
    {
        await _gw.DisposeAsync();
        await _collector.DisposeAsync();
    }

    private async Task<HttpResponseMessage> Get(string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        var response = await _gw.Proxy.SendAsync(request);
        Assert.Equal(200, (int)response.StatusCode);
        return response;
    }

    /// <summary>The witness's log record of a request (it logs last, so the probe's own record, if any, is there already).</summary>
    private async Task<StepProbePlugin.Seen> Witnessed(string path)
    {
        for (var i = 0; i < 500; i++)
        {
            if (_seen.FirstOrDefault(s => s.Plugin == "log-witness" && s.Path == path) is { } seen) return seen;
            await Task.Delay(20);
        }
        throw new TimeoutException($"no log record of {path}");
    }

    private static string Echoed(HttpResponseMessage response, string name) =>
        JsonNode.Parse(response.Content.ReadAsStringAsync().Result)!["headers"]?[name]?.ToString() ?? "";

    [Fact]
    public async Task A_plugin_that_skips_its_later_phases_is_not_called_in_header_filter_or_log()
    {
        await _gw.ServiceAndRouteAsync("svc", "/api");
        using (var kept = await Get("/api/kept"))
            Assert.Equal("ran", kept.Headers.GetValues("x-header-filter-skip-probe").Single());
        Assert.Equal(["kong.response.set_header"], (await Witnessed("/api/kept")).SkippedHeaderSteps);
        Assert.Contains(_seen, s => s.Plugin == "skip-probe" && s.Path == "/api/kept");

        using (var skipped = await Get("/api/skipped", ("x-skip", "1")))
            Assert.False(skipped.Headers.Contains("x-header-filter-skip-probe"));
        var witnessed = await Witnessed("/api/skipped");
        Assert.DoesNotContain(_seen, s => s.Plugin == "skip-probe" && s.Path == "/api/skipped");
        Assert.Equal(["skip-probe"], witnessed.SkippedLogSteps);
        Assert.Equal(["kong.response.set_header", "skip-probe"], witnessed.SkippedHeaderSteps);
    }

    /// <summary>Request debugging reports every step Kong runs: a debugged request passes over none.</summary>
    [Fact]
    public async Task A_debugged_request_runs_the_steps_a_plugin_would_skip()
    {
        await _gw.ServiceAndRouteAsync("svc", "/api");
        using var debugged = await Get("/api/debugged", ("x-skip", "1"), ("X-Kong-Request-Debug", "*"));
        Assert.True(debugged.Headers.Contains("X-Kong-Request-Debug-Output"));
        Assert.Equal("ran", debugged.Headers.GetValues("x-header-filter-skip-probe").Single());
        await Witnessed("/api/debugged");
        Assert.Contains(_seen, s => s.Plugin == "skip-probe" && s.Path == "/api/debugged");
    }

    /// <summary>Unsampled: the opentelemetry plugin's log step is passed over, and so is the deferred-headers step unless
    /// the trace-id header waits for the response (it is sent all the same). Sampled: its log step runs and exports.</summary>
    [Fact]
    public async Task The_opentelemetry_plugin_skips_its_log_step_only_on_a_request_it_does_not_sample()
    {
        foreach (var (name, rate, header) in new[] { ("unsampled", 0.0, false), ("unsampled-id", 0.0, true), ("sampled", 1.0, false) })
        {
            await _gw.ServiceAndRouteAsync(name, "/" + name);
            await _gw.CreateAsync($"/routes/{name}-route/plugins", new
            {
                name = "opentelemetry",
                config = new JsonObject
                {
                    ["traces_endpoint"] = _collector.TracesUrl, ["sampling_rate"] = rate,
                    ["queue"] = new JsonObject { ["max_coalescing_delay"] = 0.05 },
                    ["http_response_header_for_traceid"] = header ? "x-trace-id" : null,
                },
            });
        }

        using (var unsampled = await Get("/unsampled/a"))
        {
            Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-00$", Echoed(unsampled, "traceparent"));
            Assert.False(unsampled.Headers.Contains("x-trace-id"));
        }
        var seen = await Witnessed("/unsampled/a");
        Assert.Equal(["opentelemetry"], seen.SkippedLogSteps);
        Assert.Equal(["kong.response.set_header"], seen.SkippedHeaderSteps);

        using (var withId = await Get("/unsampled-id/a"))
        {
            var traceparent = Echoed(withId, "traceparent");
            Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-00$", traceparent);
            Assert.Equal(traceparent.Split('-')[1], withId.Headers.GetValues("x-trace-id").Single());
        }
        seen = await Witnessed("/unsampled-id/a");
        Assert.Equal(["opentelemetry"], seen.SkippedLogSteps);
        Assert.Empty(seen.SkippedHeaderSteps);

        using (var sampled = await Get("/sampled/a"))
            Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$", Echoed(sampled, "traceparent"));
        seen = await Witnessed("/sampled/a");
        Assert.Empty(seen.SkippedLogSteps);
        for (var i = 0; i < 500 && !_collector.Spans.Any(s => s.Name == "kong"); i++) await Task.Delay(20);
        Assert.EndsWith("/sampled/a", (string)Assert.Single(_collector.Spans, s => s.Name == "kong").Attributes["http.url"]);
    }
}

/// <summary>A test plugin in access, header_filter and log: with <c>skipsOnHeader</c>, a request carrying <c>x-skip</c>
/// has it skip its later phases; its header_filter sets <c>x-header-filter-NAME: ran</c>; its log records the request's path
/// and which header_filter and log steps of the request's plan were passed over.</summary>
internal sealed class StepProbePlugin(string name, int priority, bool skipsOnHeader, ConcurrentQueue<StepProbePlugin.Seen> seen) : GatehousePlugin
{
    public sealed record Seen(string Plugin, string Path, string[] SkippedHeaderSteps, string[] SkippedLogSteps);

    public override string Name => name;
    public override int Priority => priority;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } = [];

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) => new Handler(name, skipsOnHeader, seen);

    private sealed class Handler(string name, bool skipsOnHeader, ConcurrentQueue<Seen> seen) : PluginHandler
    {
        public override ValueTask<PhaseOutcome> AccessAsync(Kong kong)
        {
            if (skipsOnHeader && kong.Request.Headers.ContainsKey("x-skip")) kong.SkipLaterPhases();
            return ValueTask.FromResult(PhaseOutcome.Continue);
        }

        public override ValueTask HeaderFilterAsync(Kong kong)
        {
            kong.Response.SetHeader("x-header-filter-" + name, "ran", deferred: false);
            return ValueTask.CompletedTask;
        }

        public override ValueTask LogAsync(Kong kong)
        {
            var context = kong.Context;
            var plan = context.Plan;
            seen.Enqueue(new Seen(name, context.HttpContext.Request.Path.Value ?? "",
                Skipped(plan.ResponseHeaders, plan.ResponseHeadersSkipBits, context.SkippedSteps),
                Skipped(plan.Log, plan.LogSkipBits, context.SkippedSteps)));
            return ValueTask.CompletedTask;
        }

        private static string[] Skipped<T>(IReadOnlyList<T> steps, ulong[] bits, ulong skipped) where T : IPhaseHandler =>
            [.. steps.Where((_, i) => (skipped & bits[i]) != 0).Select(s => s.Name)];
    }
}
