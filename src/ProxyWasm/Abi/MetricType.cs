namespace ProxyWasm.Abi;

/// <summary><c>proxy_metric_type_t</c> (spec §1.5). Public because metric snapshots carry it.</summary>
public enum MetricType
{
    Counter = 0,
    Gauge = 1,
    Histogram = 2,
}
