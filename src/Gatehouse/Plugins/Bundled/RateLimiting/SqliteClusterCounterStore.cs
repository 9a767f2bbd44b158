using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Plugins.Bundled.RateLimiting;

/// <summary>
/// rate-limiting's <c>cluster</c> policy store with <c>database = sqlite</c>: Kong's <c>ratelimiting_metrics</c> table
/// (identifier, period, window start, service id, route id → value, expiry) in the gateway's SQLite file, so every
/// gateway using that file counts one limit. Reads are one SELECT per request on a pooled connection; increments go
/// through <see cref="ClusterIncrementQueue"/>, each flush one upsert transaction. The table is created on first use;
/// expired rows are dropped by the flush.
/// </summary>
public sealed class SqliteClusterCounterStore : IClusterCounterStore
{
    private const string Table = """
        CREATE TABLE IF NOT EXISTS ratelimiting_metrics (
          identifier TEXT NOT NULL, period TEXT NOT NULL, period_date INTEGER NOT NULL,
          service_id TEXT NOT NULL, route_id TEXT NOT NULL, value INTEGER NOT NULL, ttl INTEGER NOT NULL,
          PRIMARY KEY (identifier, period, period_date, service_id, route_id))
        """;

    private const string Select = """
        SELECT value FROM ratelimiting_metrics WHERE identifier = $i AND period = $p AND period_date = $d
          AND service_id = $s AND route_id = $r
        """;

    private readonly string? _connectionString;
    private readonly TimeProvider _time;
    private readonly ClusterIncrementQueue _increments;
    private volatile bool _tableReady;

    /// <param name="sqlitePath">The gateway's SQLite file; null on nodes without one (the policy is then refused
    /// by the schema, and any use fails).</param>
    public SqliteClusterCounterStore(string? sqlitePath, TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(loggers);
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _increments = new ClusterIncrementQueue(FlushAsync, "sqlite", loggers.CreateLogger("Gatehouse.Plugins.RateLimiting"));
        _connectionString = sqlitePath is null ? null : new SqliteConnectionStringBuilder
        {
            DataSource = sqlitePath, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 5,
        }.ToString();
    }

    /// <summary>The counts of <paramref name="keys"/> (0 when absent).</summary>
    public async Task<long[]> GetAsync(IReadOnlyList<ClusterCounterKey> keys, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(keys);
        await EnsureTableAsync().ConfigureAwait(false);
        await using var conn = await OpenAsync(cancel).ConfigureAwait(false);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = Select;
        var result = new long[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            Bind(cmd, keys[i]);
            result[i] = await cmd.ExecuteScalarAsync(cancel).ConfigureAwait(false) is long v ? v : 0;
        }
        return result;
    }

    public string DbSystem => "sqlite";

    /// <summary>One SELECT per window (run once per limit of the request).</summary>
    public string ReadStatement => Select;

    public void Increment(ClusterCounterKey key, long expiry) => _increments.Add(key, expiry);

    private async Task FlushAsync(IReadOnlyDictionary<ClusterCounterKey, ClusterIncrement> batch)
    {
        await EnsureTableAsync().ConfigureAwait(false);
        await using var conn = await OpenAsync(CancellationToken.None).ConfigureAwait(false);
        await using var tx = (SqliteTransaction)await conn.BeginTransactionAsync().ConfigureAwait(false);
        await using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = """
            INSERT INTO ratelimiting_metrics (identifier, period, period_date, service_id, route_id, value, ttl)
            VALUES ($i, $p, $d, $s, $r, $v, $t)
            ON CONFLICT (identifier, period, period_date, service_id, route_id) DO UPDATE SET value = value + excluded.value
            """;
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        foreach (var (key, (delta, expiry)) in batch)
        {
            Bind(cmd, key);
            cmd.Parameters.AddWithValue("$v", delta);
            cmd.Parameters.AddWithValue("$t", expiry);
            await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        cmd.Parameters.Clear();
        cmd.CommandText = "DELETE FROM ratelimiting_metrics WHERE ttl < $now";
        cmd.Parameters.AddWithValue("$now", now);
        await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
        await tx.CommitAsync().ConfigureAwait(false);
    }

    private static void Bind(SqliteCommand cmd, ClusterCounterKey key)
    {
        cmd.Parameters.Clear();
        cmd.Parameters.AddWithValue("$i", key.Identifier);
        cmd.Parameters.AddWithValue("$p", key.Period);
        cmd.Parameters.AddWithValue("$d", key.WindowStart);
        cmd.Parameters.AddWithValue("$s", key.ServiceId.ToString());
        cmd.Parameters.AddWithValue("$r", key.RouteId.ToString());
    }

    /// <summary>Creates the table once (idempotent, so a failed or concurrent first attempt is simply repeated).</summary>
    private async Task EnsureTableAsync()
    {
        if (_tableReady) return;
        await using var conn = await OpenAsync(CancellationToken.None).ConfigureAwait(false);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = Table;
        await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
        _tableReady = true;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancel)
    {
        var conn = new SqliteConnection(_connectionString ?? throw new InvalidOperationException("the cluster policy needs the SQLite database"));
        await conn.OpenAsync(cancel).ConfigureAwait(false);
        return conn;
    }

    public void Dispose()
    {
        _increments.Drain(TimeSpan.FromSeconds(5)); // let queued increments reach the database
        if (_connectionString is null) return;
        using var conn = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(conn);
    }
}
