namespace Gatehouse.Wasm;

/// <summary>
/// The per-request filter state of one route's chain (<see cref="WasmRequestState"/>: the stream host, its header maps
/// and body buffers, the context and lease arrays), kept between requests: every filtered request needs one, and
/// allocating it anew cost ~10 objects per request. A state comes back only once its request's every entry was
/// released and every filter context ended on the caller's thread (no guest callback can read it any more); a state
/// whose context still ends in the background is left to the collector. Bounded: beyond <see cref="MaxKept"/> idle
/// states, returned ones are dropped. One per chain of a snapshot, created empty (most routes of a large
/// configuration never see a request).
/// </summary>
internal sealed class WasmRequestStatePool(int entries)
{
    /// <summary>Idle states kept at most (a few hundred bytes each): more than the requests a 2–8 core gateway has
    /// between their access and log phases at once on one route, typically.</summary>
    internal const int MaxKept = 256;

    private readonly Lock _lock = new();
    private Stack<WasmRequestState>? _idle;

    public int Entries => entries;

    /// <summary>Idle states (tests).</summary>
    internal int IdleCount
    {
        get { lock (_lock) return _idle?.Count ?? 0; }
    }

    public WasmRequestState Rent()
    {
        lock (_lock)
        {
            if (_idle is { Count: > 0 } idle) return idle.Pop();
        }
        return new WasmRequestState(entries, this);
    }

    public void Return(WasmRequestState state)
    {
        lock (_lock)
        {
            _idle ??= new Stack<WasmRequestState>();
            if (_idle.Count < MaxKept) _idle.Push(state);
        }
    }
}
