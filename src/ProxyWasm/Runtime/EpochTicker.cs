using Wasmtime;

namespace ProxyWasm.Runtime;

/// <summary>
/// Increments the engine epoch on a dedicated thread; each guest call sets a one-tick deadline whose callback
/// (<c>WasmVm.OnEpochDeadline</c>) meters the thread's CPU time and stops the call once its budget is spent (spec
/// §8.4). Uses the real clock on purpose: a CPU deadline must not depend on an injected test clock.
/// A sleeping thread rather than a <see cref="Timer"/>: timer callbacks wake thread-pool workers, which spin before
/// parking again (3–5 % of a core at 100 ticks/s, bench/NOTES.md). It ticks every <c>interval</c> while guest calls
/// start (<see cref="NoteActivity"/>) and every <c>idleInterval</c> after a second without any.
/// It sleeps with <see cref="Thread.Sleep(TimeSpan)"/>, not a timed wait on an event: a wake-up costs about two thirds
/// of the event's (no monitor, no spin; ~50 against ~75 µs of CPU per tick on the benchmark VM, 100 ticks/s under
/// load), and <see cref="Dispose"/> interrupts the sleep. Dispose waits for the thread, so the engine can be disposed
/// right after.
/// </summary>
internal sealed class EpochTicker : IDisposable
{
    private const long IdleAfterMilliseconds = 1000;
    private readonly Engine _engine;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _idleInterval;
    private readonly Thread _thread;
    private volatile bool _stopping;
    private long _lastActivity = Environment.TickCount64;
    private bool _active;
    private long _ticks;

    public EpochTicker(Engine engine, TimeSpan interval, TimeSpan idleInterval)
    {
        _engine = engine;
        _interval = interval;
        _idleInterval = idleInterval;
        _thread = new Thread(Run) { IsBackground = true, Name = "wasm epoch" };
        _thread.Start();
    }

    /// <summary>A guest call is starting. Reads a flag and writes it only when the ticker cleared it (once per tick), so
    /// a call costs no clock read and concurrent calls on several cores do not keep writing one shared cache line.</summary>
    public void NoteActivity()
    {
        if (!Volatile.Read(ref _active)) Volatile.Write(ref _active, true);
    }

    /// <summary>Ticks so far, counted right after each engine increment: a reader that sees the same count twice may
    /// have missed at most the increment in progress, whose deadline check only starts a call's CPU stopwatch.</summary>
    public long Ticks => Volatile.Read(ref _ticks);

    private void Run()
    {
        try
        {
            while (!_stopping)
            {
                var now = Environment.TickCount64;
                if (Volatile.Read(ref _active))
                {
                    Volatile.Write(ref _active, false);
                    _lastActivity = now;
                }
                var idle = now - _lastActivity > IdleAfterMilliseconds;
                Thread.Sleep(idle ? _idleInterval : _interval);
                if (_stopping) return;
                _engine.IncrementEpoch();
                Interlocked.Increment(ref _ticks);
            }
        }
        catch (ThreadInterruptedException)
        {
            // Dispose: stop at once rather than after the rest of the sleep
        }
    }

    public void Dispose()
    {
        _stopping = true;
        if (Thread.CurrentThread == _thread) return;
        _thread.Interrupt();
        _thread.Join();
    }
}
