using System.Collections.Concurrent;
using System.Diagnostics;

namespace ProxyWasm.Runtime;

/// <summary>
/// The host's own figures for one filter (all its VMs and plugin instances): guest callback durations by callback,
/// VM failures split into deadline hits and traps, and streams that went on without the filter because it failed
/// under <see cref="FailPolicy.FailOpen"/>. Recorded where each event happens with Interlocked only (no locks, no
/// allocation once a callback's histogram exists).
/// </summary>
public sealed class FilterStats
{
    /// <summary>Upper bounds (ms) of the callback duration buckets; +Inf follows.</summary>
    public static IReadOnlyList<double> CallbackBucketsMs { get; } = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000];

    private static readonly long[] BucketTicks = [.. CallbackBucketsMs.Select(ms => (long)(ms * Stopwatch.Frequency / 1000))];

    private readonly ConcurrentDictionary<string, CallbackTimes> _callbacks = new(StringComparer.Ordinal);
    private long _traps;
    private long _deadlineHits;
    private long _failOpen;

    /// <summary>VM failures in a guest callback other than a deadline (traps, memory limit, proc_exit).</summary>
    public long Traps => Interlocked.Read(ref _traps);
    /// <summary>Guest callbacks stopped by their deadline (the VM is then replaced).</summary>
    public long DeadlineHits => Interlocked.Read(ref _deadlineHits);
    /// <summary>Streams that continued without the filter after its VM failed (fail-open).</summary>
    public long FailOpenSkips => Interlocked.Read(ref _failOpen);

    // The histograms of recent callback names, found by reference: the host passes string literals (interned), so a
    // callback of a request costs a few reference compares instead of hashing its name. Replaced whole (copy on write);
    // two threads adding at once may lose one entry, which is found in the dictionary the next time.
    private (string Name, CallbackTimes Times)[] _byReference = [];
    private const int MaxByReference = 32;

    internal void RecordCallback(string callback, long elapsedTicks) => TimesOf(callback).Record(elapsedTicks);

    private CallbackTimes TimesOf(string callback)
    {
        var known = Volatile.Read(ref _byReference);
        foreach (var (name, times) in known)
        {
            if (ReferenceEquals(name, callback)) return times;
        }
        var found = _callbacks.GetOrAdd(callback, static _ => new CallbackTimes());
        if (known.Length < MaxByReference) Volatile.Write(ref _byReference, [.. known, (callback, found)]);
        return found;
    }

    internal void RecordFailure(bool deadline)
    {
        if (deadline) Interlocked.Increment(ref _deadlineHits);
        else Interlocked.Increment(ref _traps);
    }

    internal void RecordFailOpen() => Interlocked.Increment(ref _failOpen);

    /// <summary>Each callback's histogram now: per-bucket (non-cumulative) counts ending with +Inf, count, sum in ms.</summary>
    public IReadOnlyList<(string Callback, long[] Buckets, long Count, double SumMs)> Callbacks() =>
        [.. _callbacks.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Value.Snapshot(c.Key))];

    private sealed class CallbackTimes
    {
        private readonly long[] _buckets = new long[BucketTicks.Length + 1];
        private long _count;
        private long _sumTicks;

        public void Record(long ticks)
        {
            var i = 0;
            while (i < BucketTicks.Length && ticks > BucketTicks[i]) i++;
            Interlocked.Increment(ref _buckets[i]);
            Interlocked.Add(ref _sumTicks, ticks);
            Interlocked.Increment(ref _count);
        }

        public (string, long[], long, double) Snapshot(string callback)
        {
            var buckets = new long[_buckets.Length];
            for (var i = 0; i < buckets.Length; i++) buckets[i] = Interlocked.Read(ref _buckets[i]);
            return (callback, buckets, Interlocked.Read(ref _count), Interlocked.Read(ref _sumTicks) * 1000.0 / Stopwatch.Frequency);
        }
    }
}

/// <summary>The <see cref="FilterStats"/> of every filter a host has run, by filter name.</summary>
public sealed class FilterStatsRegistry
{
    private readonly ConcurrentDictionary<string, FilterStats> _filters = new(StringComparer.Ordinal);

    /// <summary>The stats of <paramref name="filter"/>, created at its first VM.</summary>
    public FilterStats For(string filter) => _filters.GetOrAdd(filter, static _ => new FilterStats());

    /// <summary>Every filter's stats, by name.</summary>
    public IReadOnlyList<(string Filter, FilterStats Stats)> All() =>
        [.. _filters.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => (f.Key, f.Value))];
}
