namespace Gatehouse.Proxy;

/// <summary>Process-wide request counters for /status (one instance per host, in DI).</summary>
public sealed class GatewayCounters
{
    private long _total;
    private long _active;

    public long TotalRequests => Interlocked.Read(ref _total);
    public long ActiveRequests => Interlocked.Read(ref _active);

    internal void Begin()
    {
        Interlocked.Increment(ref _total);
        Interlocked.Increment(ref _active);
    }

    internal void End() => Interlocked.Decrement(ref _active);
}
