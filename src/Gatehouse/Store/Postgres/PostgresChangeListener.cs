using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Gatehouse.Store.Postgres;

/// <summary>
/// Follows the changes other nodes make: LISTENs on a dedicated connection (reconnecting with backoff when it drops)
/// and polls <c>cluster_events</c> every <c>db_update_frequency</c>, so a notification lost while the connection was
/// down is still seen. Either one asks the <see cref="ConfigReloadQueue"/> for a reload; this node's own events are
/// ignored (it published them already).
/// </summary>
internal sealed partial class PostgresChangeListener : BackgroundService
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(10);

    private readonly PostgresConnections _db;
    private readonly Guid _nodeId;
    private readonly TimeSpan _frequency;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConfigReloadQueue _reloads;
    private long _polls;

    /// <param name="reload">Re-reads and publishes the configuration (<see cref="StoreConfigPublisher.ReloadAsync"/>).</param>
    public PostgresChangeListener(PostgresConnections db, Guid nodeId, TimeSpan frequency, TimeSpan propagation,
        Func<CancellationToken, Task> reload, TimeProvider time, ILogger<PostgresChangeListener> logger)
    {
        _db = db ?? throw new ArgumentNullException(nameof(db));
        _nodeId = nodeId;
        _frequency = frequency > TimeSpan.Zero ? frequency : throw new ArgumentOutOfRangeException(nameof(frequency));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _reloads = new ConfigReloadQueue(reload, propagation, time, logger);
    }

    /// <summary>Reloads finished so far (tests wait on it).</summary>
    public long ReloadsCompleted => _reloads.Completed;

    /// <summary>Polls of <c>cluster_events</c> that read it (tests wait on it).</summary>
    public long PollsCompleted => Interlocked.Read(ref _polls);

    /// <summary>Each event younger than this is read by every poll (ids of concurrent writers commit out of order, so
    /// "newer than the last id seen" could skip one); ids already seen are remembered for as long.</summary>
    private TimeSpan PollWindow => _frequency * 2 + TimeSpan.FromMinutes(1);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try { await _db.RunAsync(read: false, async conn => { await PostgresClusterTables.EnsureAsync(conn, cancellationToken); return true; }, cancellationToken); }
        catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException) { LogTablesNotCreated(e); } // the listener retries
        await base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(ListenAsync(stoppingToken), PollAsync(stoppingToken));

    private async Task ListenAsync(CancellationToken stop)
    {
        var retry = FirstRetry;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var conn = new NpgsqlConnection(ListenConnectionString());
                conn.Notification += (_, e) => { if (!IsOwn(e.Payload)) _reloads.Request(); };
                await conn.OpenAsync(stop);
                await PostgresClusterTables.EnsureAsync(conn, stop);
                await using (var listen = new NpgsqlCommand($"LISTEN {PostgresClusterTables.Channel}", conn)) await listen.ExecuteNonQueryAsync(stop);
                LogListening(_db.Describe());
                retry = FirstRetry;
                // whatever changed while nobody listened is read now
                _reloads.Request();
                while (true) await conn.WaitAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                // whatever broke the connection, listening must resume: a failure escaping a hosted service stops the node
                LogListenLost(e, retry.TotalMilliseconds);
                try { await Task.Delay(retry, _time, stop); }
                catch (OperationCanceledException) { return; }
                retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, LastRetry.Ticks));
            }
        }
    }

    private async Task PollAsync(CancellationToken stop)
    {
        var seen = new Dictionary<long, DateTime>();
        var failed = false;
        while (!stop.IsCancellationRequested)
        {
            try { await Task.Delay(_frequency, _time, stop); }
            catch (OperationCanceledException) { return; }
            try
            {
                var (events, now) = await ReadRecentEventsAsync(stop);
                var foreign = failed; // events may have left the window while the database could not be read
                foreach (var (id, node, at) in events)
                    if (seen.TryAdd(id, at) && node != _nodeId) foreign = true;
                foreach (var old in seen.Where(s => s.Value < now - PollWindow).Select(s => s.Key).ToList()) seen.Remove(old);
                if (foreign)
                {
                    LogPollFoundChanges();
                    _reloads.Request();
                }
                failed = false;
                Interlocked.Increment(ref _polls);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                // polling must go on whatever failed (a failure escaping a hosted service stops the node)
                if (!failed) LogPollFailed(e);
                failed = true;
            }
        }
    }

    private Task<(List<(long Id, Guid Node, DateTime At)> Events, DateTime Now)> ReadRecentEventsAsync(CancellationToken ct) =>
        _db.RunAsync(read: false, async conn =>
        {
            await using (var purge = new NpgsqlCommand("DELETE FROM cluster_events WHERE expire_at < now()", conn))
                await purge.ExecuteNonQueryAsync(ct);
            await using var cmd = new NpgsqlCommand("SELECT id, node_id, at, now() FROM cluster_events WHERE at > now() - @window", conn);
            cmd.Parameters.AddWithValue("window", PollWindow);
            var events = new List<(long, Guid, DateTime)>();
            var now = DateTime.UtcNow;
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                events.Add((reader.GetInt64(0), reader.GetGuid(1), reader.GetDateTime(2)));
                now = reader.GetDateTime(3);
            }
            return (events, now);
        }, ct);

    private bool IsOwn(string payload) => Guid.TryParse(payload, out var node) && node == _nodeId;

    /// <summary>Not pooled (a pooled connection is reset, LISTEN included, when returned), with keepalives so a
    /// silently dead connection is noticed while waiting for notifications.</summary>
    private string ListenConnectionString() =>
        new NpgsqlConnectionStringBuilder(PostgresConnections.ConnectionString(_db.Options))
        {
            Pooling = false,
            KeepAlive = 5,
            ApplicationName = "gatehouse-listener",
        }.ConnectionString;

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await _reloads.DisposeAsync();
    }

    [LoggerMessage(EventId = 2113, Level = LogLevel.Information, Message = "listening for configuration changes of other nodes on {Database}")]
    private partial void LogListening(string database);

    [LoggerMessage(EventId = 2114, Level = LogLevel.Warning,
        Message = "the connection listening for other nodes' changes failed; retrying in {RetryMs} ms (polling continues meanwhile)")]
    private partial void LogListenLost(Exception error, double retryMs);

    [LoggerMessage(EventId = 2115, Level = LogLevel.Warning, Message = "polling cluster_events failed; other nodes' changes are read when it works again")]
    private partial void LogPollFailed(Exception error);

    [LoggerMessage(EventId = 2116, Level = LogLevel.Debug, Message = "poll of cluster_events found changes of other nodes")]
    private partial void LogPollFoundChanges();

    [LoggerMessage(EventId = 2117, Level = LogLevel.Warning, Message = "could not create the cluster tables at start; the listener retries")]
    private partial void LogTablesNotCreated(Exception error);
}
