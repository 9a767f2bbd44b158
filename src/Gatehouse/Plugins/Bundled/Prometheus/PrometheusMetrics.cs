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
    }

    public Counter Requests { get; }
    public Histogram RequestLatency { get; }
    public Histogram UpstreamLatency { get; }
    public Histogram KongLatency { get; }
    public Counter Bandwidth { get; }

    /// <summary>Writes the text exposition format.</summary>
    public async Task WriteAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await _registry.CollectAndExportAsTextAsync(http.Response.Body, http.RequestAborted);
    }

    private static Histogram Histogram(IMetricFactory factory, string name, string help) =>
        factory.CreateHistogram(name, help, ["service", "route"], new HistogramConfiguration { Buckets = LatencyBuckets });
}
