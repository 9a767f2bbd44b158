using Microsoft.Extensions.Logging;

namespace Gatehouse.Store.Outage;

/// <summary>
/// A node starting while the shared database is unreachable: it publishes the snapshot it persisted at its last
/// publish and says so, and the <see cref="DatabaseMonitor"/> resynchronises when the database returns. Without a
/// snapshot the start fails, as Kong's does without its database.
/// </summary>
public sealed partial class SnapshotStart(ConfigSnapshot snapshot, StoreConfigPublisher publisher, DatabaseMonitor monitor,
    ILogger<SnapshotStart> logger)
{
    public async Task StartAsync(DatabaseUnavailableException unreachable, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(unreachable);
        var rows = snapshot.Load()
            ?? throw new InvalidOperationException(
                $"{unreachable.Message}; no configuration snapshot to start from ({snapshot.Path} does not exist: a node writes it " +
                "after it has read its configuration from the database once)", unreachable);
        var config = await publisher.PublishRowsAsync(rows, ct);
        LogStartedOnSnapshot(unreachable.Database, unreachable.Reason, snapshot.PublishedAt?.ToString("O") ?? "?", snapshot.Path,
            config.Services.Length, config.Routes.Length);
        monitor.StartedOnSnapshot(unreachable);
    }

    [LoggerMessage(EventId = 2105, Level = LogLevel.Error,
        Message = "{Database} is unreachable ({Reason}): running on the persisted configuration snapshot of {PublishedAt} ({Path}, {Services} services, {Routes} routes) until it returns; Admin API writes are refused meanwhile")]
    private partial void LogStartedOnSnapshot(string database, string reason, string publishedAt, string path, int services, int routes);
}
