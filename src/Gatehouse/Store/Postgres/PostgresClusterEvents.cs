using Gatehouse.Config;
using Npgsql;

namespace Gatehouse.Store.Postgres;

/// <summary>
/// Announces this node's committed changes: a <c>cluster_events</c> row (read by every node's poll, so a lost
/// notification never loses a change) and, in the same transaction, a NOTIFY (delivered at commit, so a listener that
/// hears it reads the change).
/// </summary>
internal sealed class PostgresClusterEvents : IClusterEvents
{
    private readonly PostgresConnections _db;
    private readonly Guid _nodeId;

    public PostgresClusterEvents(PostgresConnections db, AdminNodeInfo node)
    {
        _db = db ?? throw new ArgumentNullException(nameof(db));
        _nodeId = (node ?? throw new ArgumentNullException(nameof(node))).NodeId;
    }

    public Task AnnounceChangeAsync(CancellationToken ct) => _db.RunAsync(read: false, async conn =>
    {
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO cluster_events (node_id, channel, data, expire_at) VALUES (@node, @channel, NULL, now() + @lifetime)", conn, tx))
        {
            insert.Parameters.AddWithValue("node", _nodeId);
            insert.Parameters.AddWithValue("channel", PostgresClusterTables.ChangeEvent);
            insert.Parameters.AddWithValue("lifetime", PostgresClusterTables.EventLifetime);
            await insert.ExecuteNonQueryAsync(ct);
        }
        await using (var notify = new NpgsqlCommand("SELECT pg_notify(@channel, @node)", conn, tx))
        {
            notify.Parameters.AddWithValue("channel", PostgresClusterTables.Channel);
            notify.Parameters.AddWithValue("node", _nodeId.ToString("D"));
            await notify.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return true;
    }, ct);
}
