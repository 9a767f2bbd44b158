using Wasmtime;

namespace ProxyWasm.Runtime;

/// <summary>
/// Increments the engine epoch every interval on a dedicated thread; each guest call sets a one-tick deadline whose
/// callback (<c>WasmVm.OnEpochDeadline</c>) meters the thread's CPU time and stops the call once its budget is
/// spent (spec §8.4). Uses the real clock on purpose: a CPU deadline must not depend on an injected test clock.
/// A sleeping thread rather than a <see cref="Timer"/>: timer callbacks wake thread-pool workers, which spin
/// before parking again, and that cost an idle gateway 3–5 % of a core at 100 ticks/s (bench/NOTES.md).
/// <see cref="Dispose"/> waits for the thread, so the engine can be disposed right after.
/// </summary>
internal sealed class EpochTicker : IDisposable
{
    private readonly Engine _engine;
    private readonly TimeSpan _interval;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _stop = new(false, spinCount: 0);

    public EpochTicker(Engine engine, TimeSpan interval)
    {
        _engine = engine;
        _interval = interval;
        _thread = new Thread(Run) { IsBackground = true, Name = "wasm epoch" };
        _thread.Start();
    }

    private void Run()
    {
        // Wait returns false on timeout: one tick; true once Dispose asked to stop
        while (!_stop.Wait(_interval)) _engine.IncrementEpoch();
    }

    public void Dispose()
    {
        _stop.Set();
        if (Thread.CurrentThread != _thread) _thread.Join();
        _stop.Dispose();
    }
}
