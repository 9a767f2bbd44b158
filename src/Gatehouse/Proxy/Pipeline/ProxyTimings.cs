namespace Gatehouse.Proxy.Pipeline;

/// <summary>Timestamps of one request (from <see cref="TimeProvider.GetTimestamp"/>); 0 when not reached.</summary>
public sealed class ProxyTimings
{
    private readonly TimeProvider _time;

    public ProxyTimings(TimeProvider time)
    {
        _time = time;
        Start = time.GetTimestamp();
    }

    public long Start { get; }
    public long UpstreamStart { get; internal set; }
    public long UpstreamHeaders { get; internal set; }
    public long End { get; internal set; }

    public long Now() => _time.GetTimestamp();

    /// <summary>Time spent in the gateway before the upstream request was sent (Kong's proxy latency).</summary>
    public long ProxyLatencyMs => UpstreamStart == 0 ? -1 : Ms(Start, UpstreamStart);
    /// <summary>From sending the upstream request to receiving its headers (Kong's upstream latency).</summary>
    public long UpstreamLatencyMs => UpstreamHeaders == 0 || UpstreamStart == 0 ? -1 : Ms(UpstreamStart, UpstreamHeaders);
    /// <summary>Whole request so far (or until <see cref="End"/>).</summary>
    public long TotalMs => Ms(Start, End == 0 ? Now() : End);

    public TimeSpan Elapsed(long from, long to) => _time.GetElapsedTime(from, to);

    private long Ms(long from, long to) => (long)_time.GetElapsedTime(from, to).TotalMilliseconds;
}
