using ProxyWasm.Abi;

namespace ProxyWasm.Shared;

/// <summary>
/// Process-wide registry of filter metrics (spec §5.5, Envoy semantics). Ids encode the type in the low two bits
/// (<c>id &amp; 3</c>) and are stable per (plugin, type, name), so every VM of a plugin shares one series.
/// Updates are lock-free; definitions copy-on-write. Read it with <see cref="Snapshot"/>.
/// </summary>
public sealed class MetricsRegistry
{
    private const int HistogramBuckets = 33; // 2^0 .. 2^31, then +Inf (ngx uses powers of two up to 2^32)
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Plugin, MetricType Type, string Name), int> _ids = new();
    private volatile Metric[] _metrics = [];

    internal sealed class Metric(string plugin, string name, MetricType type)
    {
        public readonly string Plugin = plugin;
        public readonly string Name = name;
        public readonly MetricType Type = type;
        public long Value;
        public long Count;
        public readonly long[] Buckets = type == MetricType.Histogram ? new long[HistogramBuckets] : [];
    }

    internal WasmResult Define(string plugin, MetricType type, string name, out int id)
    {
        lock (_gate)
        {
            if (!_ids.TryGetValue((plugin, type, name), out id))
            {
                var next = _metrics;
                id = (next.Length << 2) | (int)type;
                var grown = new Metric[next.Length + 1];
                next.CopyTo(grown, 0);
                grown[^1] = new Metric(plugin, name, type);
                _metrics = grown;
                _ids[(plugin, type, name)] = id;
            }
        }
        return WasmResult.Ok;
    }

    internal WasmResult Increment(int id, long delta)
    {
        var m = Find(id);
        if (m is null) return WasmResult.NotFound;
        switch (m.Type)
        {
            case MetricType.Counter when delta > 0:
            case MetricType.Gauge:
                Interlocked.Add(ref m.Value, delta);
                return WasmResult.Ok;
            default:
                return WasmResult.BadArgument;
        }
    }

    internal WasmResult Record(int id, ulong value)
    {
        var m = Find(id);
        if (m is null) return WasmResult.NotFound;
        switch (m.Type)
        {
            case MetricType.Gauge:
                Interlocked.Exchange(ref m.Value, (long)value);
                break;
            case MetricType.Counter: // Envoy adds the value
                Interlocked.Add(ref m.Value, (long)value);
                break;
            default:
                int bucket = value <= 1 ? 0 : Math.Min(HistogramBuckets - 1, 64 - System.Numerics.BitOperations.LeadingZeroCount(value - 1));
                Interlocked.Increment(ref m.Buckets[bucket]);
                Interlocked.Increment(ref m.Count);
                Interlocked.Add(ref m.Value, (long)value);
                break;
        }
        return WasmResult.Ok;
    }

    internal WasmResult Get(int id, out long value)
    {
        value = 0;
        var m = Find(id);
        if (m is null) return WasmResult.NotFound;
        if (m.Type == MetricType.Histogram) return WasmResult.BadArgument;
        value = Interlocked.Read(ref m.Value);
        return WasmResult.Ok;
    }

    /// <summary>All metrics defined so far, with their current values.</summary>
    public IReadOnlyList<MetricSnapshot> Snapshot()
    {
        var all = _metrics;
        var result = new List<MetricSnapshot>(all.Length);
        foreach (var m in all)
        {
            var buckets = new List<(ulong, long)>();
            for (int i = 0; i < m.Buckets.Length; i++)
            {
                ulong bound = i == HistogramBuckets - 1 ? ulong.MaxValue : 1UL << i;
                buckets.Add((bound, Interlocked.Read(ref m.Buckets[i])));
            }
            result.Add(new MetricSnapshot(m.Plugin, m.Name, m.Type, Interlocked.Read(ref m.Value), Interlocked.Read(ref m.Count), buckets));
        }
        return result;
    }

    /// <summary>Finds one metric by plugin and name (convenience for tests and exporters).</summary>
    public MetricSnapshot? Find(string plugin, string name) => Snapshot().FirstOrDefault(s => s.Plugin == plugin && s.Name == name);

    private Metric? Find(int id)
    {
        var all = _metrics;
        int index = (int)((uint)id >> 2);
        if (index >= all.Length) return null;
        var m = all[index];
        return (int)m.Type == (id & 3) ? m : null;
    }
}
