using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gatehouse.Plugins.Bundled.RateLimiting;

/// <summary>
/// rate-limiting's <c>redis</c> policy with <c>sync_rate</c> &gt; 0 (Kong 3.x): the first request of a window on this
/// node reads the shared count with one INCR (so Redis already holds it) and caches it; later requests count in
/// memory, lock-free, and see cached value + local delta; a flush scheduled <c>sync_rate</c> seconds after the first
/// local increment sends the deltas (INCRBY) and forgets the cache, so the next request reads the shared value back.
/// One instance per Redis server setting (Kong's per-database tables), shared by plugin instances and snapshots.
/// A failed flush drops its deltas, as Kong's does.
/// </summary>
internal sealed partial class RedisSyncedCounters
{
    private readonly RedisCounterStore _store;
    private readonly RedisSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);
    private Counter[] _retired = [];
    private int _pending;

    public RedisSyncedCounters(RedisCounterStore store, RedisSettings settings, TimeProvider time, ILogger logger)
    {
        _store = store;
        _settings = settings;
        _time = time;
        _logger = logger;
    }

    /// <summary>The usage of each key (before this request); keys not cached are read from Redis in one go.</summary>
    public async Task<(long[] Used, Counter[] Counters)> UsageAsync(string[] keys, TimeSpan[] ttls, long[] expireAt)
    {
        var counters = Volatile.Read(ref _counters);
        var used = new long[keys.Length];
        var found = new Counter[keys.Length];
        List<int>? missing = null;
        for (var i = 0; i < keys.Length; i++)
        {
            if (counters.TryGetValue(keys[i], out var c)) (found[i], used[i]) = (c, c.Usage + Interlocked.Read(ref c.Delta));
            else (missing ??= []).Add(i);
        }
        if (missing is null) return (used, found);
        var prior = await _store.IncrementReturningPriorAsync(_settings, [.. missing.Select(i => (RedisKey)keys[i])], [.. missing.Select(i => ttls[i])])
            .ConfigureAwait(false);
        for (var j = 0; j < missing.Count; j++)
        {
            var i = missing[j];
            // The cache holds Redis's count after this INCR (Kong caches the count before it, so its local view
            // misses one request per read); the delta then starts at -1, since Redis already counted this request
            // and the local increment must not send it again.
            var c = counters.GetOrAdd(keys[i], static (k, a) => new Counter(k, a.Prior + 1, a.ExpireAt), (Prior: prior[j], ExpireAt: expireAt[i]));
            Interlocked.Decrement(ref c.Delta);
            (found[i], used[i]) = (c, prior[j]);
        }
        return (used, found);
    }

    /// <summary>Counts the request locally and makes sure a flush runs within <paramref name="syncRate"/>.</summary>
    public void Increment(Counter[] counters, TimeSpan syncRate)
    {
        foreach (var c in counters) Interlocked.Increment(ref c.Delta);
        if (Interlocked.CompareExchange(ref _pending, 1, 0) == 0) _ = FlushLaterAsync(syncRate);
    }

    private async Task FlushLaterAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _time, _store.Stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return; // the gateway is stopping
        }
        Volatile.Write(ref _pending, 0);
        var flushed = Interlocked.Exchange(ref _counters, new ConcurrentDictionary<string, Counter>(StringComparer.Ordinal));
        // Counters retired by the previous flush may have taken an increment from a request still holding them.
        var late = Interlocked.Exchange(ref _retired, [.. flushed.Values]);
        var deltas = new List<(RedisKey, long, long)>();
        foreach (var c in flushed.Values.Concat(late))
            if (Interlocked.Exchange(ref c.Delta, 0) is var d and not 0) deltas.Add((c.Key, d, c.ExpireAt));
        if (deltas.Count == 0) return;
        try
        {
            await _store.AddAsync(_settings, deltas).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogFlushFailure(_logger, _settings.Host, _settings.Port, deltas.Count, e.Message);
        }
    }

    /// <summary>One cached window: the shared count when read, and what this node has counted since.</summary>
    internal sealed class Counter(string key, long usage, long expireAt)
    {
        public long Delta;
        public string Key { get; } = key;
        public long Usage { get; } = usage;
        public long ExpireAt { get; } = expireAt;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "[rate-limiting] failed to sync {Count} counter(s) to Redis {Host}:{Port}: {Reason}")]
    private static partial void LogFlushFailure(ILogger logger, string host, int port, int count, string reason);
}
