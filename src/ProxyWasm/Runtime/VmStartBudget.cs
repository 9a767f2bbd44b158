namespace ProxyWasm.Runtime;

/// <summary>
/// Paces the VM starts of one plugin (<see cref="WasmLimits.VmStartCpuShare"/>): a token bucket of CPU time that
/// refills at <c>share</c> seconds per second, holds at most one second's worth, and is charged the thread CPU time
/// each start actually took. A start may begin while the bucket is positive (so one expensive start can overdraw
/// it); then starts wait until it has refilled. Cheap starts (a C filter: well under a millisecond) are never
/// slowed by a trap storm; a filter whose start is expensive cannot turn traps into a CPU sink. Not thread-safe:
/// the plugin's gate guards it.
/// </summary>
internal sealed class VmStartBudget
{
    private readonly double _share;
    private readonly long _capacityNanoseconds;
    private readonly TimeProvider _time;
    private long _levelNanoseconds;
    private long _stamp;
    private bool _paced;

    public VmStartBudget(double share, TimeProvider time)
    {
        _share = share;
        _time = time;
        _capacityNanoseconds = (long)(share * 1_000_000_000);
        _levelNanoseconds = _capacityNanoseconds;
        _stamp = time.GetTimestamp();
    }

    /// <summary>
    /// True when a start may begin now; otherwise <paramref name="wait"/> is how long until it may, and
    /// <paramref name="firstWait"/> says this is the first refusal since starts last went through (log it once).
    /// </summary>
    public bool TryReserve(out TimeSpan wait, out bool firstWait)
    {
        Refill();
        firstWait = false;
        if (_levelNanoseconds > 0)
        {
            wait = TimeSpan.Zero;
            _paced = false;
            return true;
        }
        // time for the bucket to get back above zero, plus a millisecond so the retry finds it there
        wait = TimeSpan.FromMilliseconds(-_levelNanoseconds / _share / 1_000_000 + 1);
        firstWait = !_paced;
        _paced = true;
        return false;
    }

    /// <summary>Charges the CPU time a start used.</summary>
    public void Charge(long cpuNanoseconds) => _levelNanoseconds -= Math.Max(0, cpuNanoseconds);

    private void Refill()
    {
        long now = _time.GetTimestamp();
        double elapsedNs = _time.GetElapsedTime(_stamp, now).TotalMilliseconds * 1_000_000;
        _stamp = now;
        _levelNanoseconds = (long)Math.Min(_capacityNanoseconds, _levelNanoseconds + elapsedNs * _share);
    }
}
