namespace Gatehouse.Store;

/// <summary>
/// Tells the other nodes sharing this node's database that the configuration changed, so they re-publish theirs.
/// PostgreSQL: a <c>cluster_events</c> row and a NOTIFY (<see cref="Postgres.PostgresClusterEvents"/>); SQLite and
/// DB-less have no other nodes (<see cref="SingleNodeCluster"/>).
/// </summary>
public interface IClusterEvents
{
    /// <summary>Called after this node committed a change and published it locally.</summary>
    Task AnnounceChangeAsync(CancellationToken ct);
}
