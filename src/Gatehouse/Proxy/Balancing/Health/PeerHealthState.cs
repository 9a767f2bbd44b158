namespace Gatehouse.Proxy.Balancing.Health;

/// <summary>The outcome kinds a check or a proxied try reports; each has its own counter and threshold.</summary>
internal enum HealthReport { Success = 0, HttpFailure = 1, TcpFailure = 2, Timeout = 3 }

/// <summary>
/// One peer's health, as lua-resty-healthcheck keeps it: four states (healthy, mostly healthy, mostly unhealthy,
/// unhealthy; the "mostly" ones count as their side) and a counter per report kind. A success clears the failure
/// counters and a failure clears the success counter, so thresholds count reports in a row; reaching one flips the
/// peer and clears every counter. Reports that agree with a fully healthy/unhealthy state are not counted.
/// The whole state is one 64-bit word updated by compare-and-swap: reading health is a volatile read, reporting
/// takes no lock (reports come from request completions).
/// </summary>
internal sealed class PeerHealthState(BalancerPeer peer)
{
    private const int Healthy = 0, MostlyHealthy = 1, MostlyUnhealthy = 2, Unhealthy = 3;
    private const int StateShift = 32;
    private const long SuccessMask = 0xFF, FailureMask = 0xFFFFFF00;

    private long _word; // bits 0-31: four 8-bit counters by HealthReport; bits 32-33: state

    /// <summary>The peer as last configured (weight may change while the address keeps its health).</summary>
    public BalancerPeer Peer { get; set; } = peer;

    public bool IsHealthy => (int)(Volatile.Read(ref _word) >> StateShift) <= MostlyHealthy;

    /// <summary>Counts one report against <paramref name="limit"/> (0: this kind is not counted). Returns the new
    /// health when the report flipped it, null otherwise.</summary>
    public bool? Count(HealthReport report, int limit)
    {
        if (limit <= 0) return null;
        var healthyReport = report == HealthReport.Success;
        while (true)
        {
            var old = Volatile.Read(ref _word);
            var state = (int)(old >> StateShift);
            if (healthyReport ? state == Healthy : state == Unhealthy) return null;
            var shift = (int)report * 8;
            var counter = Math.Min(255, (int)((old >> shift) & 0xFF) + 1);
            var counters = (old & (healthyReport ? SuccessMask : FailureMask)) & ~(0xFFL << shift) | ((long)counter << shift);
            int next;
            if (counter >= limit)
            {
                next = healthyReport ? Healthy : Unhealthy;
                counters = 0;
            }
            else if (state == Healthy && (counters & FailureMask) != 0) next = MostlyHealthy;
            else if (state == Unhealthy && (counters & SuccessMask) != 0) next = MostlyUnhealthy;
            else next = state;
            var word = ((long)next << StateShift) | counters;
            if (Interlocked.CompareExchange(ref _word, word, old) != old) continue;
            var wasHealthy = state <= MostlyHealthy;
            var isHealthy = next <= MostlyHealthy;
            return wasHealthy != isHealthy ? isHealthy : null;
        }
    }

    /// <summary>Sets the state (Admin API healthy/unhealthy) and clears the counters. True when health changed.</summary>
    public bool Set(bool healthy)
    {
        var old = Interlocked.Exchange(ref _word, (long)(healthy ? Healthy : Unhealthy) << StateShift);
        return ((int)(old >> StateShift) <= MostlyHealthy) != healthy;
    }
}
