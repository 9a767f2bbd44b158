using System.Collections.Concurrent;

namespace Gatehouse.Plugins.Bundled.RateLimiting;

/// <summary>
/// The in-memory counters of rate-limiting's <c>local</c> policy (Kong's shared dict): fixed windows keyed by
/// plugin instance, identifier and window start. A singleton, so counts survive configuration changes; expired
/// windows are pruned as new ones are created. Lock-free on the request path. Also owns the <c>redis</c> policy's
/// connections (<see cref="Redis"/>) and the <c>cluster</c> policy's store (<see cref="Cluster"/>), which must outlive
/// snapshots the same way.
/// </summary>
public sealed class RateLimitCounters : IDisposable
{
    private readonly ConcurrentDictionary<Key, Counter> _counters = new();
    private long _creations;

    public RateLimitCounters(IClusterCounterStore cluster) => Cluster = cluster ?? throw new ArgumentNullException(nameof(cluster));

    // made at the first redis-policy request: a gateway without one does not load StackExchange.Redis (issue #16 goal 4)
    private RedisCounterStore? _redis;

    /// <summary>The <c>redis</c> policy's shared counters.</summary>
    public RedisCounterStore Redis => LazyInitializer.EnsureInitialized(ref _redis, static () => new RedisCounterStore());

    /// <summary>The <c>cluster</c> policy's counters in the gateway database.</summary>
    public IClusterCounterStore Cluster { get; }

    public void Dispose()
    {
        Volatile.Read(ref _redis)?.Dispose();
        Cluster.Dispose();
    }

    public long Get(Guid plugin, string identifier, string period, long windowStart) =>
        _counters.TryGetValue(new Key(plugin, identifier, period, windowStart), out var c) ? Volatile.Read(ref c.Value) : 0;

    /// <summary>Adds one to a window; <paramref name="windowEnd"/> lets old windows be dropped later.</summary>
    public long Increment(Guid plugin, string identifier, string period, long windowStart, long windowEnd, long now)
    {
        var key = new Key(plugin, identifier, period, windowStart);
        if (!_counters.TryGetValue(key, out var counter))
        {
            counter = _counters.GetOrAdd(key, _ => new Counter(windowEnd));
            if (Interlocked.Increment(ref _creations) % 1024 == 0) Prune(now);
        }
        return Interlocked.Increment(ref counter.Value);
    }

    private void Prune(long now)
    {
        foreach (var (key, counter) in _counters)
            if (counter.WindowEnd <= now) _counters.TryRemove(key, out _);
    }

    private readonly record struct Key(Guid Plugin, string Identifier, string Period, long WindowStart);

    private sealed class Counter(long windowEnd)
    {
        public long Value;
        public long WindowEnd { get; } = windowEnd;
    }
}
