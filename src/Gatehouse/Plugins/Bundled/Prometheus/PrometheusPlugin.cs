using System.Globalization;
using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Plugins.Bundled.Prometheus;

/// <summary>Kong's prometheus (priority 13): per service/route request counts by status, latencies and
/// bandwidth, each family behind Kong's config flag.</summary>
public sealed class PrometheusPlugin : GatehousePlugin
{
    public override string Name => "prometheus";
    public override int Priority => 13;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
    [
        PluginFields.Bool("per_consumer", false),
        PluginFields.Bool("status_code_metrics", false),
        PluginFields.Bool("latency_metrics", false),
        PluginFields.Bool("bandwidth_metrics", false),
        PluginFields.Bool("upstream_health_metrics", false),
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
            var service = kong.Service?.Name ?? kong.Service?.Id.ToString() ?? "";
            var route = kong.Route?.Name ?? kong.Route?.Id.ToString() ?? "";
            var context = kong.Context;
            if (_status)
            {
                var source = context.Error is not null ? "error" : context.UpstreamStatus is not null && context.LocalResponse is null ? "service" : "kong";
                var consumer = _perConsumer ? kong.Consumer?.Username ?? "" : "";
                metrics.Requests.WithLabels(service, route, context.HttpContext.Response.StatusCode.ToString(CultureInfo.InvariantCulture), source, consumer).Inc();
            }
            if (_latency)
            {
                metrics.RequestLatency.WithLabels(service, route).Observe(context.Timings.TotalMs);
                if (context.Timings.UpstreamLatencyMs >= 0) metrics.UpstreamLatency.WithLabels(service, route).Observe(context.Timings.UpstreamLatencyMs);
                if (context.Timings.ProxyLatencyMs >= 0) metrics.KongLatency.WithLabels(service, route).Observe(context.Timings.ProxyLatencyMs);
            }
            if (_bandwidth)
            {
                metrics.Bandwidth.WithLabels(service, route, "ingress").Inc(context.HttpContext.Request.ContentLength ?? 0);
                metrics.Bandwidth.WithLabels(service, route, "egress").Inc(context.ResponseBodyBytes);
            }
            return ValueTask.CompletedTask;
        }
    }
}
