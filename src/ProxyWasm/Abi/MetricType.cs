namespace ProxyWasm.Abi;

/// <summary><c>proxy_metric_type_t</c> (spec §1.5). Public because metric snapshots carry it.</summary>
public enum MetricType
{
    /// <summary>Monotonic; increments must be positive.</summary>
    Counter = 0,
    /// <summary>Settable and incrementable up or down.</summary>
    Gauge = 1,
    /// <summary>Observations in power-of-two buckets.</summary>
    Histogram = 2,
}
