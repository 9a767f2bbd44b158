using Npgsql;

namespace Gatehouse.Store.Postgres;

/// <summary>
/// The tables nodes sharing a database talk through: <c>cluster_events</c> (Kong's shape: who changed the
/// configuration and when; rows expire) and <c>cluster_nodes</c> (each node's heartbeat and what it serves), and the
/// NOTIFY channel that wakes the listeners. Created idempotently by each node, under an advisory lock so nodes starting
/// at once do not race.
/// </summary>
internal static class PostgresClusterTables
{
    /// <summary>The LISTEN/NOTIFY channel; the payload is the announcing node's id.</summary>
    public const string Channel = "gatehouse_config";
    /// <summary><c>cluster_events.channel</c> of a configuration change (Kong names its channel "invalidations").</summary>
    public const string ChangeEvent = "invalidations";
    /// <summary>How long an event row is kept: far longer than any poll window, short enough to keep the table small.</summary>
    public static readonly TimeSpan EventLifetime = TimeSpan.FromHours(1);

    /// <summary>The tables <see cref="EnsureAsync"/> creates (what <c>migrations reset</c> drops).</summary>
    public static IReadOnlyList<string> Tables { get; } = ["cluster_events", "cluster_nodes"];

    private const long CreateLockKey = 0x6761_7465_0003;

    public static async Task EnsureAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var tx = await conn.BeginTransactionAsync(ct);
        foreach (var sql in new[]
        {
            $"SELECT pg_advisory_xact_lock({CreateLockKey})",
            "CREATE TABLE IF NOT EXISTS cluster_events (id bigserial PRIMARY KEY, node_id uuid NOT NULL, " +
                "at timestamptz NOT NULL DEFAULT now(), channel text NOT NULL, data text, expire_at timestamptz NOT NULL)",
            "CREATE INDEX IF NOT EXISTS cluster_events_at_idx ON cluster_events (at)",
            "CREATE TABLE IF NOT EXISTS cluster_nodes (id uuid PRIMARY KEY, hostname text NOT NULL, version text NOT NULL, " +
                "last_seen timestamptz NOT NULL, config_hash text NOT NULL, config_version bigint NOT NULL)",
        })
        {
            await using var cmd = new NpgsqlCommand(sql, conn, tx);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }
}
