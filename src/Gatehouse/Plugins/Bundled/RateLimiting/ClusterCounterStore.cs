using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Plugins.Bundled.RateLimiting;

/// <summary>
/// rate-limiting's <c>cluster</c> policy store: Kong's <c>ratelimiting_metrics</c> table (identifier, period, window
/// start, service id, route id → value, expiry) in the gateway's SQLite file, so every gateway using that file counts
/// one limit. Reads are one SELECT per request on a pooled connection. Increments go, as Kong's timer does, after the
/// request: they are queued without a lock and one writer folds whatever is queued into a single upsert transaction.
/// The table is created on first use; expired rows are dropped by the writer.
/// </summary>
public sealed partial class ClusterCounterStore : IDisposable
{
    private const string Table = """
        CREATE TABLE IF NOT EXISTS ratelimiting_metrics (
          identifier TEXT NOT NULL, period TEXT NOT NULL, period_date INTEGER NOT NULL,
          service_id TEXT NOT NULL, route_id TEXT NOT NULL, value INTEGER NOT NULL, ttl INTEGER NOT NULL,
          PRIMARY KEY (identifier, period, period_date, service_id, route_id))
        """;

    private readonly string? _connectionString;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<(ClusterCounterKey Key, long Expiry)> _increments = new();
    private Task _writer = Task.CompletedTask;
    private int _writing;
    private volatile bool _tableReady;

    /// <param name="sqlitePath">The gateway's SQLite file; null on nodes without one (the policy is then refused
    /// by the schema, and any use fails).</param>
    public ClusterCounterStore(string? sqlitePath, TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(loggers);
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = loggers.CreateLogger("Gatehouse.Plugins.RateLimiting");
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
        cmd.CommandText = """
            SELECT value FROM ratelimiting_metrics WHERE identifier = $i AND period = $p AND period_date = $d
              AND service_id = $s AND route_id = $r
            """;
        var result = new long[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            Bind(cmd, keys[i]);
            result[i] = await cmd.ExecuteScalarAsync(cancel).ConfigureAwait(false) is long v ? v : 0;
        }
        return result;
    }

    /// <summary>Queues +1 on <paramref name="key"/> (lock-free) and starts the writer unless it is running;
    /// <paramref name="expiry"/> (Unix seconds) ends the row's life.</summary>
    public void Increment(ClusterCounterKey key, long expiry)
    {
        _increments.Enqueue((key, expiry));
        if (Interlocked.Exchange(ref _writing, 1) == 0) _writer = Task.Run(WriteAsync);
    }

    /// <summary>Folds everything queued into one transaction, until the queue stays empty.</summary>
    private async Task WriteAsync()
    {
        while (true)
        {
            var batch = new Dictionary<ClusterCounterKey, (long Delta, long Expiry)>();
            while (_increments.TryDequeue(out var item))
                batch[item.Key] = batch.TryGetValue(item.Key, out var b) ? (b.Delta + 1, item.Expiry) : (1, item.Expiry);
            if (batch.Count > 0)
            {
                try
                {
                    await FlushAsync(batch).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SqliteException or InvalidOperationException or IOException)
                {
                    LogWriteFailure(_logger, batch.Count, e.Message); // dropped, as Kong's failed timer increment
                }
            }
            Volatile.Write(ref _writing, 0);
            // An increment queued after the drain either started a new writer or is ours to pick up.
            if (_increments.IsEmpty || Interlocked.Exchange(ref _writing, 1) == 1) return;
        }
    }

    private async Task FlushAsync(Dictionary<ClusterCounterKey, (long Delta, long Expiry)> batch)
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
        try
        {
            Volatile.Read(ref _writer).Wait(TimeSpan.FromSeconds(5)); // let queued increments reach the database
        }
        catch (AggregateException) { } // already logged by the writer, or nothing more can be done on shutdown
        if (_connectionString is null) return;
        using var conn = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(conn);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "cluster policy: could not increment {Count} sqlite counter(s): {Reason}")]
    private static partial void LogWriteFailure(ILogger logger, int count, string reason);
}

/// <summary>One <c>ratelimiting_metrics</c> row: Kong's primary key (null route/service as the zero UUID).</summary>
public readonly record struct ClusterCounterKey(string Identifier, string Period, long WindowStart, Guid ServiceId, Guid RouteId);
