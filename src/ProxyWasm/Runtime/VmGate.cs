namespace ProxyWasm.Runtime;

/// <summary>
/// The mutual exclusion of one VM: whoever holds it runs guest code on the VM's store (a store is single-threaded).
/// Since a VM holds the HTTP contexts of many concurrent requests, a request that finds the VM busy must not block
/// its thread (a paced slow callback can hold the VM for a second): it waits asynchronously
/// (<see cref="EnterAsync"/>). Uncontended, entering and leaving is one compare-and-swap and one exchange. Not
/// re-entrant, never held across an await. Waiters are woken one per <see cref="Exit"/> and retry (a running thread
/// may take the gate first: cheaper than handing it to a continuation that is still queued).
/// </summary>
internal sealed class VmGate
{
    private readonly Queue<TaskCompletionSource> _waiters = new();
    private int _held;
    private int _waiting;

    /// <summary>Takes the gate if it is free.</summary>
    public bool TryEnter() => Interlocked.CompareExchange(ref _held, 1, 0) == 0;

    /// <summary>Takes the gate; completes synchronously when it is free.</summary>
    public ValueTask EnterAsync() => TryEnter() ? default : EnterSlowAsync();

    /// <summary>Blocking <see cref="EnterAsync"/>: only for work that is not a request's (status reads, disposal).</summary>
    public void Enter()
    {
        if (!TryEnter()) EnterSlowAsync().AsTask().GetAwaiter().GetResult();
    }

    private async ValueTask EnterSlowAsync()
    {
        while (true)
        {
            TaskCompletionSource wake;
            lock (_waiters)
            {
                // counted before the retry (both full fences), so an Exit between them sees the waiter
                Interlocked.Increment(ref _waiting);
                if (TryEnter())
                {
                    Interlocked.Decrement(ref _waiting);
                    return;
                }
                wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Enqueue(wake);
            }
            await wake.Task.ConfigureAwait(false);
        }
    }

    /// <summary>Releases the gate and wakes one waiter, if any.</summary>
    public void Exit()
    {
        Interlocked.Exchange(ref _held, 0);
        if (Volatile.Read(ref _waiting) == 0) return;
        TaskCompletionSource? next = null;
        lock (_waiters)
        {
            if (_waiters.TryDequeue(out next)) Interlocked.Decrement(ref _waiting);
        }
        next?.TrySetResult();
    }

    /// <summary>Enters synchronously and leaves on dispose (<c>using (gate.Hold())</c>).</summary>
    public Held Hold()
    {
        Enter();
        return new Held(this);
    }

    public readonly struct Held(VmGate gate) : IDisposable
    {
        public void Dispose() => gate.Exit();
    }
}
