using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Plugins;
using Gatehouse.Plugins.Bundled;
using Gatehouse.Proxy.Pipeline;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Plugins;

/// <summary>
/// The opentelemetry plugin (priority 14) behind access plugins of a higher priority, through the real proxy to a real
/// collector (<see cref="OtlpReceiver"/>) and upstream: the plugin decides sampling once the route's plugins are known,
/// before those steps run, and again right before its own step on the headers they may have changed. A request it
/// leaves out makes no trace (seen by <see cref="TraceProbePlugin"/>, an access plugin ahead of it); one it samples has
/// every step's span, as when the trace was made before the steps ahead ran. The global tracing_sampling_rate is 0
/// here, so a request ended ahead of the plugin is never sampled.
/// </summary>
public sealed class OpenTelemetryStepsAheadTests : IAsyncLifetime
{
    // sampled / not sampled at 0.5 by Kong's trace-id sampler (OpenTelemetryPluginTests.Sampling_is_decided_by_the_trace_id…)
    private const string Sampled = "ffffffffffffff7f0000000000000001", Unsampled = "00000000000000800000000000000001";
    private const string Parent = "a1b2c3d4e5f60718";
    private PluginGateway _gw = null!;
    private OtlpReceiver _collector = null!;

    public async Task InitializeAsync()
    {
        _gw = await PluginGateway.StartAsync(TraceProbePlugin.Register,
            o => o with { TracingInstrumentations = ["all"], TracingSamplingRate = 0, LogLevel = "warn" });
        _collector = await OtlpReceiver.StartAsync();
        await _gw.ServiceAndRouteAsync("svc", "/api");
        await _gw.CreateAsync("/plugins", new
        {
            name = "opentelemetry",
            config = new { traces_endpoint = _collector.TracesUrl, sampling_rate = 0.5, queue = new { max_coalescing_delay = 0.05 } },
        });
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "trace-probe", config = new { } });
    }

    public async Task DisposeAsync()
    {
        await _gw.DisposeAsync();
        await _collector.DisposeAsync();
    }

    private async Task<JsonNode> Get(string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        using var response = await _gw.Proxy.SendAsync(request);
        Assert.Equal(200, (int)response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private static string Echoed(JsonNode echo, string name) => echo["headers"]?[name]?.ToString() ?? "";

    /// <summary>Left out on the client's trace id: the step ahead runs with no trace made, and the upstream still gets
    /// the client's trace, not sampled. Sampled: the trace exists when the step ahead runs, and has its span.</summary>
    [Fact]
    public async Task A_request_left_out_makes_no_trace_for_the_steps_ahead_and_still_propagates()
    {
        var left = await Get("/api/left", ("traceparent", $"00-{Unsampled}-{Parent}-01"));
        Assert.Equal("no", Echoed(left, "x-trace-made"));
        Assert.Matches($"^00-{Unsampled}-[0-9a-f]{{16}}-00$", Echoed(left, "traceparent"));

        var kept = await Get("/api/kept", ("traceparent", $"00-{Sampled}-{Parent}-01"));
        Assert.Equal("yes", Echoed(kept, "x-trace-made"));
        await Eventually.TrueAsync(() => _collector.Spans.Any(s => s.Name == "kong"));
        var spans = _collector.Spans;
        Assert.All(spans, s => Assert.Equal(Sampled, s.TraceId));
        var root = Assert.Single(spans, s => s.Name == "kong");
        var probe = Assert.Single(spans, s => s.Name == "kong.access.plugin.trace-probe");
        var step = Assert.Single(spans, s => s.Name == "kong.access.plugin.opentelemetry");
        Assert.All(new[] { probe, step }, s => Assert.Equal(root.SpanId, s.ParentSpanId));
        Assert.InRange(probe.EndNanos, probe.StartNanos, step.StartNanos);
        var balancer = Assert.Single(spans, s => s.Name == "kong.balancer");
        Assert.Equal($"00-{Sampled}-{balancer.SpanId}-01", Echoed(kept, "traceparent"));
    }

    /// <summary>A step ahead rewrites the trace context (request-transformer, priority 801, replacing traceparent): the
    /// plugin decides on what it sees at its own step, as Kong's. Left out on the client's header, sampled on the
    /// rewritten one: the trace is made at the plugin's step, with the request's, the router's and every step's span,
    /// in order, the steps ahead included.</summary>
    [Fact]
    public async Task A_trace_context_rewritten_ahead_of_the_plugin_is_the_one_it_samples_with_every_steps_span()
    {
        await _gw.CreateAsync("/routes/svc-route/plugins", new
        {
            name = "request-transformer",
            config = new { replace = new { headers = new[] { $"traceparent:00-{Sampled}-{Parent}-01" } } },
        });
        var echo = await Get("/api/rewritten", ("traceparent", $"00-{Unsampled}-{Parent}-01"));
        Assert.Equal("no", Echoed(echo, "x-trace-made")); // decided on the client's header before the steps ahead
        await Eventually.TrueAsync(() => _collector.Spans.Any(s => s.Name == "kong"));
        var spans = _collector.Spans;
        Assert.All(spans, s => Assert.Equal(Sampled, s.TraceId));
        var root = Assert.Single(spans, s => s.Name == "kong");
        Assert.Equal(Parent, root.ParentSpanId);
        var router = Assert.Single(spans, s => s.Name == "kong.router");
        var probe = Assert.Single(spans, s => s.Name == "kong.access.plugin.trace-probe");
        var transformer = Assert.Single(spans, s => s.Name == "kong.access.plugin.request-transformer");
        var step = Assert.Single(spans, s => s.Name == "kong.access.plugin.opentelemetry");
        var balancer = Assert.Single(spans, s => s.Name == "kong.balancer");
        Assert.All(new[] { router, probe, transformer, step, balancer }, s => Assert.Equal(root.SpanId, s.ParentSpanId));
        Assert.InRange(router.EndNanos, root.StartNanos, probe.StartNanos);
        Assert.InRange(probe.EndNanos, probe.StartNanos, transformer.StartNanos);
        Assert.InRange(transformer.EndNanos, transformer.StartNanos, step.StartNanos);
        Assert.InRange(step.EndNanos, step.StartNanos, root.EndNanos);
        Assert.Equal($"00-{Sampled}-{balancer.SpanId}-01", Echoed(echo, "traceparent"));
    }

    /// <summary>An instance scoped to a consumer could replace the global one once authentication ran: no decision is
    /// taken before the steps ahead then, and the trace is made as before.</summary>
    [Fact]
    public async Task A_consumer_scoped_instance_is_not_decided_before_the_steps_ahead()
    {
        await _gw.CreateAsync("/consumers", new { username = "c" });
        await _gw.CreateAsync("/consumers/c/plugins", new
        {
            name = "opentelemetry",
            config = new { traces_endpoint = _collector.TracesUrl, sampling_rate = 1, queue = new { max_coalescing_delay = 0.05 } },
        });
        var echo = await Get("/api/consumer", ("traceparent", $"00-{Unsampled}-{Parent}-01"));
        Assert.Equal("yes", Echoed(echo, "x-trace-made"));
        Assert.Matches($"^00-{Unsampled}-[0-9a-f]{{16}}-00$", Echoed(echo, "traceparent"));
    }
}

/// <summary>A test plugin in access ahead of opentelemetry (priority 1000): tells the upstream, in
/// <c>x-trace-made</c>, whether the request's trace existed when it ran.</summary>
internal sealed class TraceProbePlugin : GatehousePlugin
{
    public override string Name => "trace-probe";
    public override int Priority => 1000;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } = [];

    public static void Register(IServiceCollection services) =>
        services.AddSingleton(new PluginCatalog([.. BundledPlugins.Create(), new TraceProbePlugin()]));

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) => new Handler();

    private sealed class Handler : PluginHandler
    {
        public override ValueTask<PhaseOutcome> AccessAsync(Kong kong)
        {
            kong.Request.SetHeader("x-trace-made", kong.Context.Trace is null ? "no" : "yes");
            return ValueTask.FromResult(PhaseOutcome.Continue);
        }
    }
}
