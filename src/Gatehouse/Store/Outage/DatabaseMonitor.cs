using Gatehouse.Entities;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Store.Outage;

/// <summary>
/// Watches the shared database: a light query every <see cref="Heartbeat"/> while it is reachable (so an outage is
/// noticed even when nothing else queries it), and while it is not, attempts with backoff to re-publish the whole
/// configuration from it. The first attempt that succeeds ends the outage: the node then serves what the database
/// holds, including changes other nodes made meanwhile. A node that started on the persisted snapshot migrates first,
/// as its start would have.
/// </summary>
public sealed partial class DatabaseMonitor : BackgroundService
{
    internal static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(4);

    private readonly OutageTolerantEntityStore _store;
    private readonly StoreConfigPublisher _publisher;
    private readonly EntityRegistry _registry;
    private readonly ILogger<DatabaseMonitor> _logger;
    private readonly bool _runMigrations;
    private volatile bool _migrateOnReturn;

    /// <param name="startup">whether the start migrates (<c>--run-migrations</c>): a node that started on its snapshot
    /// does, when the database returns, what its start would have done.</param>
    public DatabaseMonitor(OutageTolerantEntityStore store, StoreConfigPublisher publisher, EntityRegistry registry, ILogger<DatabaseMonitor> logger,
        StoreStartupOptions? startup = null)
    {
        _runMigrations = startup?.RunMigrations ?? true;
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _publisher = publisher ?? throw new ArgumentNullException(nameof(publisher));
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>The start found the database unreachable and published the persisted snapshot instead.</summary>
    internal void StartedOnSnapshot(DatabaseUnavailableException e)
    {
        _migrateOnReturn = _runMigrations;
        _store.MarkUnreachable(e);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retry = FirstRetry;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (_store.Reachable)
                {
                    await _store.WaitUnreachableAsync(Heartbeat, stoppingToken);
                    if (_store.Reachable) await _store.ProbeAsync(_registry.Schemas[0], stoppingToken);
                    retry = FirstRetry;
                    continue;
                }
                if (await TryResyncAsync(stoppingToken)) continue;
                await Task.Delay(retry, stoppingToken);
                retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, LastRetry.Ticks));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                // not an outage (e.g. a schema the database lacks): keep trying, slowly, and say why
                LogResyncFailed(e.Message);
                try { await Task.Delay(LastRetry, stoppingToken); } catch (OperationCanceledException) { return; }
            }
        }
    }

    private async Task<bool> TryResyncAsync(CancellationToken ct)
    {
        try
        {
            if (_migrateOnReturn)
            {
                await _store.Database.MigrateAsync(ct);
                _migrateOnReturn = false;
            }
            var config = await _publisher.ReloadAsync(ct); // other nodes need not hear of it: nothing changed
            _store.MarkReachable();
            LogResynced(config.Version);
            return true;
        }
        catch (DatabaseUnavailableException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 2103, Level = LogLevel.Warning,
        Message = "the database is reachable again: configuration re-published from it as version {Version}; Admin API writes are accepted again")]
    private partial void LogResynced(long version);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Error, Message = "re-publishing from the database after an outage failed: {Reason}")]
    private partial void LogResyncFailed(string reason);
}
