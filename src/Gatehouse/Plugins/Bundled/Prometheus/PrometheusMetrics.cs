using System.Globalization;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Prometheus;

namespace Gatehouse.Plugins.Bundled.Prometheus;

/// <summary>The prometheus plugin's metrics in a private registry (no ambient default registry), with Kong's
/// metric names; exported on the status listener's <c>/metrics</c>.</summary>
public sealed class PrometheusMetrics
{
    private static readonly double[] LatencyBuckets = [1, 2, 5, 7, 10, 15, 20, 30, 50, 75, 100, 200, 500, 750, 1000, 2000, 5000, 10000, 30000, 60000];
    private readonly CollectorRegistry _registry = global::Prometheus.Metrics.NewCustomRegistry();

    public PrometheusMetrics()
    {
        var factory = global::Prometheus.Metrics.WithCustomRegistry(_registry);
        Requests = factory.CreateCounter("kong_http_requests_total", "HTTP status codes per consumer/service/route in Kong",
            "service", "route", "code", "source", "consumer");
        RequestLatency = Histogram(factory, "kong_request_latency_ms", "Total latency incurred during requests for each service/route in Kong");
        UpstreamLatency = Histogram(factory, "kong_upstream_latency_ms", "Latency added by upstream response for each service/route in Kong");
        KongLatency = Histogram(factory, "kong_kong_latency_ms", "Latency added by Kong and enabled plugins for each service/route in Kong");
        Bandwidth = factory.CreateCounter("kong_bandwidth_bytes", "Total bandwidth (ingress/egress) throughput in bytes", "service", "route", "direction");
        UpstreamTargetHealth = factory.CreateGauge("kong_upstream_target_health",
            "Health status of targets of upstream. States = healthchecks_off|healthy|unhealthy|dns_error, value is 1 when state is populated.",
            "upstream", "target", "address", "state", "subsystem");
    }

    public Counter Requests { get; }
    public Histogram RequestLatency { get; }
    public Histogram UpstreamLatency { get; }
    public Histogram KongLatency { get; }
    public Counter Bandwidth { get; }
    /// <summary>Kong's <c>kong_upstream_target_health</c>: set at each scrape from the upstreams' health now.</summary>
    public Gauge UpstreamTargetHealth { get; }

    private static readonly string[] HealthStates = ["healthchecks_off", "healthy", "unhealthy", "dns_error"];
    private readonly Lock _healthLock = new();

    /// <summary>Writes the text exposition format; <paramref name="snapshot"/> (the proxy's configuration now) gives
    /// the upstream health gauges.</summary>
    public async Task WriteAsync(HttpContext http, ProxySnapshot? snapshot = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        SetUpstreamHealth(snapshot);
        http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await _registry.CollectAndExportAsTextAsync(http.Response.Body, http.RequestAborted);
    }

    /// <summary>As Kong's exporter: when any enabled prometheus plugin has <c>upstream_health_metrics</c>, every
    /// address of every upstream's targets gets the four states with 1 on its state now (a target without address:
    /// <c>dns_error</c> with an empty address); the previous scrape's series are erased first, so removed targets
    /// disappear. Off: no series.</summary>
    internal void SetUpstreamHealth(ProxySnapshot? snapshot)
    {
        lock (_healthLock)
        {
            foreach (var labels in UpstreamTargetHealth.GetAllLabelValues().ToArray()) UpstreamTargetHealth.RemoveLabelled(labels);
            if (snapshot is null || !snapshot.Config.Plugins.Any(p => p.Enabled && p.Name == "prometheus"
                    && p.Config["upstream_health_metrics"] is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<bool>(out var on) && on))
                return;
            foreach (var upstream in snapshot.Upstreams.Values)
            foreach (var target in upstream.Targets)
            {
                var name = target.Host + ":" + target.Port.ToString(CultureInfo.InvariantCulture);
                if (!target.Resolved)
                {
                    SetStates(upstream.Upstream.Name, name, "", "dns_error");
                    continue;
                }
                foreach (var peer in target.Peers)
                    SetStates(upstream.Upstream.Name, name, peer.Endpoint,
                        UpstreamHealthView.OfAddress(upstream, peer).ToLowerInvariant());
            }
        }
    }

    private void SetStates(string upstream, string target, string address, string state)
    {
        foreach (var s in HealthStates)
            UpstreamTargetHealth.WithLabels(upstream, target, address, s, "http").Set(s == state ? 1 : 0);
    }

    private static Histogram Histogram(IMetricFactory factory, string name, string help) =>
        factory.CreateHistogram(name, help, ["service", "route"], new HistogramConfiguration { Buckets = LatencyBuckets });
}
