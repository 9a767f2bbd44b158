using ProxyWasm.Abi;

namespace ProxyWasm.Shared;

/// <summary>
/// A point-in-time view of one filter-defined metric, for export (e.g. Prometheus). Histograms report
/// cumulative-free bucket counts with power-of-two upper bounds (ngx style) plus sum and count.
/// </summary>
/// <param name="Plugin">Name of the filter (plugin) that defined it.</param>
/// <param name="Name">Name as the filter defined it.</param>
/// <param name="Type">Counter, gauge or histogram.</param>
/// <param name="Value">Counter/gauge value; histogram: sum of observations.</param>
/// <param name="Count">Histogram observation count (0 otherwise).</param>
/// <param name="Buckets">Histogram buckets as (upper bound, count); empty otherwise.</param>
public sealed record MetricSnapshot(
    string Plugin,
    string Name,
    MetricType Type,
    long Value,
    long Count,
    IReadOnlyList<(ulong UpperBound, long Count)> Buckets);
