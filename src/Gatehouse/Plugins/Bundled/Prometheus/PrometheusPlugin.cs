using System.Globalization;
using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Plugins.Bundled.Prometheus;

/// <summary>Kong's prometheus (priority 13): per service/route request counts by status, latencies and
/// bandwidth, each family behind Kong's config flag, recorded as Kong's exporter.lua does (nothing for a request
/// without a route; service label = name, else host; route label = name, else id; workspace <c>default</c>).
/// <c>ai_metrics</c> is refused when true: Gatehouse has no AI plugins to measure.</summary>
public sealed class PrometheusPlugin : GatehousePlugin
{
    /// <summary>Gatehouse has one workspace, Kong's <c>default</c>.</summary>
    private const string Workspace = "default";

    public override string Name => "prometheus";
    public override int Priority => 13;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
    [
        PluginFields.Bool("per_consumer", false),
        PluginFields.Bool("status_code_metrics", false),
        PluginFields.Bool("ai_metrics", false),
        PluginFields.Bool("latency_metrics", false),
        PluginFields.Bool("bandwidth_metrics", false),
        PluginFields.Bool("upstream_health_metrics", false),
    ];

    public override IReadOnlyList<EntityCheck> ConfigChecks { get; } =
    [
        new CustomEntityCheck(["ai_metrics"], c => ConfigRead.Bool(c, "ai_metrics")
            ? "ai_metrics is not implemented by Gatehouse (it has no AI plugins); set it to false"
            : null),
    ];

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) => new Handler(config, context.Services.Metrics);

    private sealed class Handler(JsonObject config, PrometheusMetrics metrics) : PluginHandler
    {
        private readonly bool _perConsumer = ConfigRead.Bool(config, "per_consumer");
        private readonly bool _status = ConfigRead.Bool(config, "status_code_metrics");
        private readonly bool _latency = ConfigRead.Bool(config, "latency_metrics");
        private readonly bool _bandwidth = ConfigRead.Bool(config, "bandwidth_metrics");

        public override ValueTask LogAsync(Kong kong)
        {
            if (kong.Route is not { } route) return ValueTask.CompletedTask; // Kong's exporter: no route, no series
            var routeName = route.Name ?? route.Id.ToString();
            var service = kong.Service is { } s ? s.Name ?? s.Host : "";
            var consumer = _perConsumer ? kong.Consumer?.Username ?? "" : "";
            var context = kong.Context;
            if (_bandwidth)
            {
                var ingress = context.HttpContext.Request.ContentLength ?? 0;
                if (ingress > 0) metrics.Bandwidth.WithLabels(service, routeName, "ingress", Workspace, consumer).Inc(ingress);
                if (context.ResponseBodyBytes > 0) metrics.Bandwidth.WithLabels(service, routeName, "egress", Workspace, consumer).Inc(context.ResponseBodyBytes);
            }
            if (_status)
            {
                // kong.response.get_source(): "service" only for the upstream's own response, else "kong"
                var source = context.Error is null && context.UpstreamStatus is not null && context.LocalResponse is null ? "service" : "kong";
                metrics.Requests.WithLabels(service, routeName, context.HttpContext.Response.StatusCode.ToString(CultureInfo.InvariantCulture),
                    source, Workspace, consumer).Inc();
            }
            if (_latency)
            {
                var timings = context.Timings;
                metrics.RequestLatency.WithLabels(service, routeName, Workspace).Observe(timings.TotalMs);
                if (timings.UpstreamLatencyMs >= 0) metrics.UpstreamLatency.WithLabels(service, routeName, Workspace).Observe(timings.UpstreamLatencyMs);
                // as kong.log.serialize's latencies.kong: all of the request when no upstream was reached
                metrics.KongLatency.WithLabels(service, routeName, Workspace).Observe(timings.ProxyLatencyMs < 0 ? timings.TotalMs : timings.ProxyLatencyMs);
            }
            return ValueTask.CompletedTask;
        }
    }
}
