using Wasmtime;

namespace ProxyWasm.Runtime;

/// <summary>
/// Increments the engine epoch every interval on a timer thread; each guest call sets a one-tick deadline whose
/// callback (<c>WasmVm.OnEpochDeadline</c>) meters the thread's CPU time and stops the call once its budget is
/// spent (spec §8.4). Uses the real clock on
/// purpose: a CPU deadline must not depend on an injected test clock. <see cref="Dispose"/> waits for a callback
/// in flight, so the engine can be disposed right after.
/// </summary>
internal sealed class EpochTicker : IDisposable
{
    private readonly Engine _engine;
    private readonly Timer _timer;
    private volatile bool _stopped;

    public EpochTicker(Engine engine, TimeSpan interval)
    {
        _engine = engine;
        _timer = new Timer(static s => ((EpochTicker)s!).Tick(), this, interval, interval);
    }

    private void Tick()
    {
        if (!_stopped) _engine.IncrementEpoch();
    }

    public void Dispose()
    {
        _stopped = true;
        using var done = new ManualResetEvent(false);
        if (_timer.Dispose(done)) done.WaitOne();
    }
}
