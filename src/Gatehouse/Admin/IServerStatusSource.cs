namespace Gatehouse.Admin;

/// <summary>
/// Optional: connection and request counters for <c>GET /status</c>, provided by the hosting layer.
/// When none is registered the counters are reported as zero.
/// </summary>
public interface IServerStatusSource
{
    ServerStatus Snapshot();
}

/// <summary>Kong's <c>server</c> block of <c>/status</c> (nginx stub_status counters).</summary>
public sealed record ServerStatus(long ConnectionsAccepted, long ConnectionsActive, long ConnectionsHandled,
    long ConnectionsReading, long ConnectionsWaiting, long ConnectionsWriting, long TotalRequests);
