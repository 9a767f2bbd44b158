using Wasmtime;

namespace ProxyWasm.Runtime;

/// <summary>
/// Increments the engine epoch every interval on a timer thread; each guest call sets a deadline a fixed number
/// of ticks ahead, so an endless loop traps with <c>TrapCode.Interrupt</c> (spec §8.4). Uses the real clock on
/// purpose: a CPU deadline must not depend on an injected test clock.
/// </summary>
internal sealed class EpochTicker : IDisposable
{
    private readonly Timer _timer;

    public EpochTicker(Engine engine, TimeSpan interval)
    {
        _timer = new Timer(static e => ((Engine)e!).IncrementEpoch(), engine, interval, interval);
    }

    public void Dispose() => _timer.Dispose();
}
