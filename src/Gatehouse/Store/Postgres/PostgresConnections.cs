using Gatehouse.Config;
using Npgsql;

namespace Gatehouse.Store.Postgres;

/// <summary>
/// Npgsql data sources (pooled connections) for the <c>pg_*</c> server and, when <c>pg_ro_host</c> is set, the read
/// replica that serves reads. <c>pg_max_concurrent_queries</c> bounds the queries in flight on each.
/// </summary>
public sealed class PostgresConnections : IAsyncDisposable
{
    private readonly SemaphoreSlim? _writeSlots;
    private readonly SemaphoreSlim? _readSlots;
    private readonly TimeSpan _readSlotTimeout;

    public PostgresConnections(PostgresOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        Primary = Build(options);
        _writeSlots = Slots(options.MaxConcurrentQueries);
        if (options.ReadReplica() is { } replica)
        {
            ReadReplica = Build(replica);
            _readSlots = Slots(replica.MaxConcurrentQueries);
            _readSlotTimeout = replica.SemaphoreTimeout;
        }
    }

    public PostgresOptions Options { get; }
    public NpgsqlDataSource Primary { get; }
    public NpgsqlDataSource? ReadReplica { get; }

    /// <summary>Where "host:port/database" of the primary (or of the replica), for messages.</summary>
    public string Describe(bool replica = false) => replica && Options.ReadReplica() is { } r ? Where(r) : Where(Options);

    private static string Where(PostgresOptions o) => $"{o.Host}:{o.Port}/{o.Database}";

    /// <summary>Runs <paramref name="action"/> on a pooled connection of the primary (or of the replica for reads).
    /// A failure to reach the server is a <see cref="Outage.DatabaseUnavailableException"/>.</summary>
    public async Task<T> RunAsync<T>(bool read, Func<NpgsqlConnection, Task<T>> action, CancellationToken ct)
    {
        var source = read && ReadReplica is not null ? ReadReplica : Primary;
        var replica = read && ReadReplica is not null;
        var slots = replica ? _readSlots : _writeSlots;
        if (slots is not null && !await slots.WaitAsync(replica ? _readSlotTimeout : Options.SemaphoreTimeout, ct))
        {
            throw new TimeoutException(replica
                ? $"no pg_ro_max_concurrent_queries slot was free within pg_ro_semaphore_timeout ({_readSlotTimeout.TotalMilliseconds} ms)"
                : $"no pg_max_concurrent_queries slot was free within pg_semaphore_timeout ({Options.SemaphoreTimeout.TotalMilliseconds} ms)");
        }
        try
        {
            await using var conn = await source.OpenConnectionAsync(ct);
            return await action(conn);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && PostgresUnavailability.IsUnavailable(e))
        {
            throw Unavailable(source, e);
        }
        finally
        {
            slots?.Release();
        }
    }

    /// <summary>Opens a connection of the primary that the caller keeps (a session lock), failures translated as in <see cref="RunAsync"/>.</summary>
    public async Task<NpgsqlConnection> OpenPrimaryAsync(CancellationToken ct)
    {
        try { return await Primary.OpenConnectionAsync(ct); }
        catch (Exception e) when (!ct.IsCancellationRequested && PostgresUnavailability.IsUnavailable(e))
        {
            throw Unavailable(Primary, e);
        }
    }

    /// <summary>The translated failure; the pool's idle connections are dropped, as a restarted server has closed them all.</summary>
    internal Exception Unavailable(NpgsqlDataSource source, Exception e)
    {
        source.Clear();
        var where = source == Primary || Options.ReadReplica() is not { } replica
            ? Describe()
            : $"{replica.Host}:{replica.Port}/{replica.Database} (read replica)";
        return PostgresUnavailability.Translate(where, e);
    }

    internal static string ConnectionString(PostgresOptions o)
    {
        var timeoutSeconds = (int)Math.Max(1, Math.Ceiling(o.Timeout.TotalSeconds));
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = o.Host,
            Port = o.Port,
            Username = o.User,
            Password = o.Password,
            Database = o.Database,
            Timeout = timeoutSeconds,
            CommandTimeout = timeoutSeconds,
            MaxPoolSize = o.PoolSize,
            // pg_ssl off: plain TCP; on: TLS required; pg_ssl_verify: chain and host name checked (Kong's behaviour)
            SslMode = !o.Ssl ? SslMode.Disable : o.SslVerify ? SslMode.VerifyFull : SslMode.Require,
            ApplicationName = "gatehouse",
        };
        if (o.Schema is not null) builder.SearchPath = o.Schema;
        return builder.ConnectionString;
    }

    private static NpgsqlDataSource Build(PostgresOptions o) => NpgsqlDataSource.Create(ConnectionString(o));

    private static SemaphoreSlim? Slots(int max) => max > 0 ? new SemaphoreSlim(max, max) : null;

    private int _disposed;

    /// <summary>Idempotent: the store that uses these connections and the DI container may both dispose them.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await Primary.DisposeAsync();
        if (ReadReplica is not null) await ReadReplica.DisposeAsync();
        _writeSlots?.Dispose();
        _readSlots?.Dispose();
    }
}
