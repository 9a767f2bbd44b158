namespace Gatehouse.Wasm;

/// <summary>One hot-reload attempt of a filter: when, whether the new module was taken, the module hashes before and
/// after (SHA-256 hex; <see cref="NewHash"/> is null when the file did not compile), and why it was refused.</summary>
public sealed record FilterReloadEvent(DateTimeOffset At, bool Accepted, string PreviousHash, string? NewHash, string? Error);

/// <summary>
/// The last <see cref="Capacity"/> hot-reload attempts of each filter, for <c>GET /filters</c> (the Manager's filters
/// page). Written only by a reload (rare, off the request path) under a lock; read as a copy.
/// </summary>
public sealed class FilterReloadHistory(TimeProvider time)
{
    public const int Capacity = 20;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Queue<FilterReloadEvent>> _events = new(StringComparer.Ordinal);

    public void Record(string filter, bool accepted, string previousHash, string? newHash, string? error)
    {
        var e = new FilterReloadEvent(time.GetUtcNow(), accepted, previousHash, newHash, error);
        lock (_gate)
        {
            if (!_events.TryGetValue(filter, out var queue)) _events[filter] = queue = new Queue<FilterReloadEvent>(Capacity);
            if (queue.Count == Capacity) queue.Dequeue();
            queue.Enqueue(e);
        }
    }

    /// <summary>The attempts kept for <paramref name="filter"/>, oldest first.</summary>
    public IReadOnlyList<FilterReloadEvent> Of(string filter)
    {
        lock (_gate) return _events.TryGetValue(filter, out var queue) ? [.. queue] : [];
    }
}
