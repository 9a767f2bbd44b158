using System.Globalization;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Prometheus;

namespace Gatehouse.Plugins.Bundled.Prometheus;

/// <summary>
/// Kong 3.9's prometheus exporter families (names, help texts, label names and buckets of its exporter.lua) in
/// private registries (no ambient default registry), plus Gatehouse's process memory gauges. Traffic families are
/// filled by the plugin's log phase and exported only while a prometheus plugin is enabled (Kong's
/// <c>local_only</c>); node families are set at each scrape from <see cref="NodeFigures"/> and always exported.
/// docs/metrics.md lists every family.
/// </summary>
public sealed class PrometheusMetrics
{
    /// <summary>Kong's <c>KONG_LATENCY_BUCKETS</c> (kong_kong_latency_ms).</summary>
    public static IReadOnlyList<double> KongLatencyBuckets { get; } = [1, 2, 5, 7, 10, 15, 20, 30, 50, 75, 100, 200, 500, 750, 1000, 3000, 6000];
    /// <summary>Kong's <c>UPSTREAM_LATENCY_BUCKETS</c> (kong_upstream_latency_ms and kong_request_latency_ms).</summary>
    public static IReadOnlyList<double> UpstreamLatencyBuckets { get; } = [25, 50, 80, 100, 250, 400, 700, 1000, 2000, 5000, 10000, 30000, 60000];

    // The families and their registries are made at first use (a scrape, a prometheus plugin's log phase, a dropped
    // span): a gateway that is never scraped and has no such plugin does not load prometheus-net (issue #16 goal 4).
    private Families? _families;

    private Families F => LazyInitializer.EnsureInitialized(ref _families, static () => new Families());

    public Counter Requests => F.Requests;
    public Histogram RequestLatency => F.RequestLatency;
    public Histogram UpstreamLatency => F.UpstreamLatency;
    public Histogram KongLatency => F.KongLatency;
    public Counter Bandwidth => F.Bandwidth;
    /// <summary>Kong's <c>kong_upstream_target_health</c>: set at each scrape from the upstreams' health now.</summary>
    public Gauge UpstreamTargetHealth => F.UpstreamTargetHealth;
    /// <summary>The opentelemetry plugin's dropped spans, by reason (docs/metrics.md).</summary>
    public Counter OpenTelemetrySpansDropped => F.OpenTelemetrySpansDropped;

    private sealed class Families
    {
        public readonly CollectorRegistry Traffic = global::Prometheus.Metrics.NewCustomRegistry();
        public readonly CollectorRegistry Node = global::Prometheus.Metrics.NewCustomRegistry();

        public Families()
        {
            var traffic = global::Prometheus.Metrics.WithCustomRegistry(Traffic);
            Requests = traffic.CreateCounter("kong_http_requests_total", "HTTP status codes per consumer/service/route in Kong",
                "service", "route", "code", "source", "workspace", "consumer");
            KongLatency = Histogram(traffic, "kong_kong_latency_ms", "Latency added by Kong and enabled plugins for each service/route in Kong", KongLatencyBuckets);
            UpstreamLatency = Histogram(traffic, "kong_upstream_latency_ms", "Latency added by upstream response for each service/route in Kong", UpstreamLatencyBuckets);
            RequestLatency = Histogram(traffic, "kong_request_latency_ms", "Total latency incurred during requests for each service/route in Kong", UpstreamLatencyBuckets);
            Bandwidth = traffic.CreateCounter("kong_bandwidth_bytes", "Total bandwidth (ingress/egress) throughput in bytes",
                "service", "route", "direction", "workspace", "consumer");

            var node = global::Prometheus.Metrics.WithCustomRegistry(Node);
            Connections = node.CreateGauge("kong_nginx_connections_total", "Number of connections by subsystem", "node_id", "subsystem", "state");
            NginxRequests = node.CreateGauge("kong_nginx_requests_total", "Number of requests total", "node_id", "subsystem");
            DatastoreReachable = node.CreateGauge("kong_datastore_reachable", "Datastore reachable from Kong, 0 is unreachable");
            NodeInfo = node.CreateGauge("kong_node_info", "Kong Node metadata information", "node_id", "version");
            OpenTelemetrySpansDropped = node.CreateCounter("gatehouse_opentelemetry_spans_dropped_total",
                "Spans the opentelemetry plugin dropped: its queue was full (queue_full), the collector did not take a batch (export_failed), or the exporter closed before sending them (shutdown)", "reason");
            UpstreamTargetHealth = node.CreateGauge("kong_upstream_target_health",
                "Health status of targets of upstream. States = healthchecks_off|healthy|unhealthy|dns_error, value is 1 when state is populated.",
                "upstream", "target", "address", "state", "subsystem");
            // Kong's kong_memory_workers_lua_vms_bytes has no Lua VM to measure here: the .NET process's figures instead
            ManagedHeap = node.CreateGauge("gatehouse_memory_managed_heap_bytes", "Bytes allocated on the .NET managed heap of the Gatehouse process", "node_id", "pid");
            WorkingSet = node.CreateGauge("gatehouse_memory_working_set_bytes", "Physical memory mapped to the Gatehouse process (Wasm linear memories included)", "node_id", "pid");
        }

        public Counter Requests { get; }
        public Histogram RequestLatency { get; }
        public Histogram UpstreamLatency { get; }
        public Histogram KongLatency { get; }
        public Counter Bandwidth { get; }
        public Gauge UpstreamTargetHealth { get; }
        public Counter OpenTelemetrySpansDropped { get; }
        public Gauge Connections { get; }
        public Gauge NginxRequests { get; }
        public Gauge DatastoreReachable { get; }
        public Gauge NodeInfo { get; }
        public Gauge ManagedHeap { get; }
        public Gauge WorkingSet { get; }
    }

    private static readonly string[] HealthStates = ["healthchecks_off", "healthy", "unhealthy", "dns_error"];
    private readonly Lock _healthLock = new();

    /// <summary>Writes the text exposition format; <paramref name="snapshot"/> (the proxy's configuration now) says
    /// whether a prometheus plugin is enabled and gives the upstream health gauges; <paramref name="node"/> the
    /// node's figures now.</summary>
    public async Task WriteAsync(HttpContext http, ProxySnapshot? snapshot, NodeFigures node)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(node);
        SetNode(node);
        SetUpstreamHealth(snapshot);
        http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        using var buffer = new MemoryStream();
        if (snapshot is not null && snapshot.Config.Plugins.Any(p => p.Enabled && p.Name == "prometheus"))
            await F.Traffic.CollectAndExportAsTextAsync(buffer, http.RequestAborted);
        await F.Node.CollectAndExportAsTextAsync(buffer, http.RequestAborted);
        await http.Response.WriteAsync(WithoutEmptyFamilies(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length)),
            http.RequestAborted);
    }

    /// <summary>Drops the <c># HELP</c>/<c># TYPE</c> lines of families without a series (prometheus-net writes them
    /// for a labelled family nothing has recorded yet): Kong's exporter writes a family only with its first series,
    /// so a family whose flag is off is absent, not empty.</summary>
    internal static string WithoutEmptyFamilies(string text)
    {
        var lines = text.Split('\n');
        var kept = new System.Text.StringBuilder(text.Length);
        var header = new List<string>();
        foreach (var line in lines)
        {
            if (line.Length == 0) continue;
            if (line.StartsWith('#'))
            {
                if (line.StartsWith("# HELP ", StringComparison.Ordinal)) header.Clear();
                header.Add(line);
                continue;
            }
            foreach (var h in header) kept.Append(h).Append('\n');
            header.Clear();
            kept.Append(line).Append('\n');
        }
        return kept.ToString();
    }

    /// <summary>Kong's scrape-time gauges: nginx's stub_status counters (from the listeners' counters), datastore
    /// reachability, node info, and the process's memory.</summary>
    private void SetNode(NodeFigures node)
    {
        var id = node.NodeId;
        var f = F;
        f.Connections.WithLabels(id, "http", "accepted").Set(node.ConnectionsAccepted);
        f.Connections.WithLabels(id, "http", "handled").Set(node.ConnectionsHandled);
        f.Connections.WithLabels(id, "http", "total").Set(node.TotalRequests);
        f.Connections.WithLabels(id, "http", "active").Set(node.ConnectionsActive);
        f.Connections.WithLabels(id, "http", "reading").Set(node.ConnectionsReading);
        f.Connections.WithLabels(id, "http", "writing").Set(node.ConnectionsWriting);
        f.Connections.WithLabels(id, "http", "waiting").Set(node.ConnectionsWaiting);
        f.NginxRequests.WithLabels(id, "http").Set(node.TotalRequests);
        f.DatastoreReachable.Set(node.DatastoreReachable ? 1 : 0);
        f.NodeInfo.WithLabels(id, node.Version).Set(1);
        var pid = node.Pid.ToString(CultureInfo.InvariantCulture);
        f.ManagedHeap.WithLabels(id, pid).Set(node.ManagedHeapBytes);
        f.WorkingSet.WithLabels(id, pid).Set(node.WorkingSetBytes);
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

    private static Histogram Histogram(IMetricFactory factory, string name, string help, IReadOnlyList<double> buckets) =>
        factory.CreateHistogram(name, help, ["service", "route", "workspace"], new HistogramConfiguration { Buckets = [.. buckets] });
}

/// <summary>The node's figures at one scrape, gathered by the host (the listeners' counters are nginx's
/// stub_status equivalents, as <c>/status</c> reports them).</summary>
public sealed record NodeFigures(
    string NodeId,
    string Version,
    long ConnectionsAccepted,
    long ConnectionsHandled,
    long ConnectionsActive,
    long ConnectionsReading,
    long ConnectionsWriting,
    long ConnectionsWaiting,
    long TotalRequests,
    bool DatastoreReachable,
    int Pid,
    long ManagedHeapBytes,
    long WorkingSetBytes);
