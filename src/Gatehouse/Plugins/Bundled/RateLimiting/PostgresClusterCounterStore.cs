using System.Data.Common;
using Gatehouse.Store.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Gatehouse.Plugins.Bundled.RateLimiting;

/// <summary>
/// rate-limiting's <c>cluster</c> policy store with <c>database = postgres</c>: Kong's <c>ratelimiting_metrics</c>
/// table (created by the store's migrations: <c>PostgresPluginMigrations</c>), shared by every node on the database.
/// A request's windows are read in one query (from the <c>pg_ro_*</c> replica when set, as Kong's DAO reads);
/// increments go through <see cref="ClusterIncrementQueue"/>, each flush one transaction of upserts in key order (so
/// two nodes flushing the same rows cannot deadlock). Expired rows (<c>ttl</c> = the window's end) are deleted by a
/// flush at most once a second (Kong: a trigger on insert).
/// </summary>
public sealed partial class PostgresClusterCounterStore : IClusterCounterStore
{
    private const string Select = """
        SELECT COALESCE(m.value, 0)
          FROM unnest(@i::text[], @p::text[], @d::timestamptz[], @s::uuid[], @r::uuid[]) WITH ORDINALITY
               AS k(identifier, period, period_date, service_id, route_id, n)
          LEFT JOIN ratelimiting_metrics m USING (identifier, period, period_date, service_id, route_id)
         ORDER BY k.n
        """;

    private const string Upsert = """
        INSERT INTO ratelimiting_metrics (identifier, period, period_date, service_id, route_id, value, ttl)
        VALUES (@i, @p, @d, @s, @r, @v, @t)
        ON CONFLICT (identifier, period, period_date, service_id, route_id)
        DO UPDATE SET value = ratelimiting_metrics.value + EXCLUDED.value
        """;

    private const string DeleteExpired = "DELETE FROM ratelimiting_metrics WHERE ttl < CURRENT_TIMESTAMP";

    private readonly PostgresConnections _db;
    private readonly bool _ownsConnections;
    private readonly TimeProvider _time;
    private readonly ClusterIncrementQueue _increments;
    private readonly ILogger _logger;
    private long _nextCleanup;

    /// <param name="ownsConnections">True when this store made <paramref name="db"/> (no PostgreSQL entity store in
    /// the process) and so disposes it.</param>
    public PostgresClusterCounterStore(PostgresConnections db, bool ownsConnections, TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(loggers);
        _db = db ?? throw new ArgumentNullException(nameof(db));
        _ownsConnections = ownsConnections;
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = loggers.CreateLogger("Gatehouse.Plugins.RateLimiting");
        _increments = new ClusterIncrementQueue(FlushAsync, "postgres", _logger);
    }

    public Task<long[]> GetAsync(IReadOnlyList<ClusterCounterKey> keys, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return _db.RunAsync(read: true, async conn =>
        {
            await using var cmd = new NpgsqlCommand(Select, conn);
            cmd.Parameters.Add(Array("i", NpgsqlDbType.Text, keys.Select(k => k.Identifier)));
            cmd.Parameters.Add(Array("p", NpgsqlDbType.Text, keys.Select(k => k.Period)));
            cmd.Parameters.Add(Array("d", NpgsqlDbType.TimestampTz, keys.Select(k => Utc(k.WindowStart))));
            cmd.Parameters.Add(Array("s", NpgsqlDbType.Uuid, keys.Select(k => k.ServiceId)));
            cmd.Parameters.Add(Array("r", NpgsqlDbType.Uuid, keys.Select(k => k.RouteId)));
            var result = new long[keys.Count];
            await using var reader = await cmd.ExecuteReaderAsync(cancel).ConfigureAwait(false);
            for (var n = 0; n < result.Length && await reader.ReadAsync(cancel).ConfigureAwait(false); n++) result[n] = reader.GetInt32(0);
            return result;
        }, cancel);
    }

    public string DbSystem => "postgres";

    public string ReadStatement => Select;

    public void Increment(ClusterCounterKey key, long expiry) => _increments.Add(key, expiry);

    private async Task FlushAsync(IReadOnlyDictionary<ClusterCounterKey, ClusterIncrement> batch)
    {
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var cleanup = now >= Interlocked.Read(ref _nextCleanup);
        await _db.RunAsync(read: false, async conn =>
        {
            await using (var tx = await conn.BeginTransactionAsync().ConfigureAwait(false))
            {
                await using var upserts = new NpgsqlBatch(conn, tx);
                foreach (var (key, increment) in batch.OrderBy(b => b.Key, KeyOrder.Instance))
                {
                    var cmd = new NpgsqlBatchCommand(Upsert);
                    cmd.Parameters.AddWithValue("i", key.Identifier);
                    cmd.Parameters.AddWithValue("p", key.Period);
                    cmd.Parameters.AddWithValue("d", Utc(key.WindowStart));
                    cmd.Parameters.AddWithValue("s", key.ServiceId);
                    cmd.Parameters.AddWithValue("r", key.RouteId);
                    cmd.Parameters.AddWithValue("v", (int)Math.Min(increment.Delta, int.MaxValue));
                    cmd.Parameters.AddWithValue("t", Utc(increment.Expiry));
                    upserts.BatchCommands.Add(cmd);
                }
                await upserts.ExecuteNonQueryAsync().ConfigureAwait(false);
                await tx.CommitAsync().ConfigureAwait(false);
            }
            if (cleanup)
            {
                // Outside the upserts' transaction: its row locks never meet another node's. The increments are
                // committed, so a failure here is only logged (the next cleanup deletes what this one left).
                try
                {
                    await using var delete = new NpgsqlCommand(DeleteExpired, conn);
                    await delete.ExecuteNonQueryAsync().ConfigureAwait(false);
                }
                catch (DbException e)
                {
                    LogCleanupFailure(_logger, e.Message);
                }
                Interlocked.Exchange(ref _nextCleanup, now + 1);
            }
            return true;
        }, CancellationToken.None).ConfigureAwait(false);
    }

    private static DateTime Utc(long unixSeconds) => DateTimeOffset.FromUnixTimeSeconds(unixSeconds).UtcDateTime;

    private static NpgsqlParameter Array<T>(string name, NpgsqlDbType type, IEnumerable<T> values) =>
        new(name, NpgsqlDbType.Array | type) { Value = values.ToArray() };

    public void Dispose()
    {
        _increments.Drain(TimeSpan.FromSeconds(5)); // let queued increments reach the database
        if (_ownsConnections) _db.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "cluster policy: could not delete expired postgres counters: {Reason}")]
    private static partial void LogCleanupFailure(ILogger logger, string reason);

    /// <summary>One total order of rows, the same on every node.</summary>
    private sealed class KeyOrder : IComparer<ClusterCounterKey>
    {
        public static readonly KeyOrder Instance = new();

        public int Compare(ClusterCounterKey x, ClusterCounterKey y)
        {
            var c = string.CompareOrdinal(x.Identifier, y.Identifier);
            if (c == 0) c = string.CompareOrdinal(x.Period, y.Period);
            if (c == 0) c = x.WindowStart.CompareTo(y.WindowStart);
            if (c == 0) c = x.ServiceId.CompareTo(y.ServiceId);
            return c != 0 ? c : x.RouteId.CompareTo(y.RouteId);
        }
    }
}
