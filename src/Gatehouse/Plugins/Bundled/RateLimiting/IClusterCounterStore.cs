namespace Gatehouse.Plugins.Bundled.RateLimiting;

/// <summary>
/// Where rate-limiting's <c>cluster</c> policy counts: Kong's <c>ratelimiting_metrics</c> rows in the node's database
/// (<see cref="SqliteClusterCounterStore"/> or <see cref="PostgresClusterCounterStore"/>, chosen by <c>database</c>),
/// so every node on that database counts one limit. Reads happen on the request; increments are queued and written
/// after it, never on the request path.
/// </summary>
public interface IClusterCounterStore : IDisposable
{
    /// <summary>The counts of <paramref name="keys"/> (0 when absent). A database failure throws a
    /// <see cref="System.Data.Common.DbException"/>.</summary>
    Task<long[]> GetAsync(IReadOnlyList<ClusterCounterKey> keys, CancellationToken cancel);

    /// <summary>The database, as Kong's <c>db.system</c> span attribute names it (<c>kong.db.strategy</c>).</summary>
    string DbSystem { get; }

    /// <summary>The statement <see cref="GetAsync"/> runs (the <c>db.statement</c> of its span).</summary>
    string ReadStatement { get; }

    /// <summary>Queues +1 on <paramref name="key"/> (lock-free); <paramref name="expiry"/> (Unix seconds, the window's
    /// end) is when the row may be deleted.</summary>
    void Increment(ClusterCounterKey key, long expiry);
}

/// <summary>One <c>ratelimiting_metrics</c> row: Kong's primary key (null route/service as the zero UUID).</summary>
public readonly record struct ClusterCounterKey(string Identifier, string Period, long WindowStart, Guid ServiceId, Guid RouteId);
