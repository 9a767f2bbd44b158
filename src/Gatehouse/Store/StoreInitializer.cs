using Gatehouse.Config;
using Gatehouse.Store.Declarative;
using Gatehouse.Store.Outage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Store;

/// <summary>
/// Runs before the listeners accept traffic: migrates the database (SQLite) or loads
/// <c>declarative_config</c> (DB-less), then publishes the first <see cref="Model.GatewayConfig"/>.
/// A bad declarative file stops the start, as in Kong.
/// </summary>
internal sealed partial class StoreInitializer : IHostedService
{
    private readonly GatehouseOptions _options;
    private readonly IEntityStore _store;
    private readonly DeclarativeConfigService _declarative;
    private readonly StoreConfigPublisher _publisher;
    private readonly ILogger<StoreInitializer> _logger;
    private readonly SnapshotStart? _snapshotStart;

    /// <param name="snapshotStart">database = postgres: what to do when the database is unreachable at start.</param>
    public StoreInitializer(GatehouseOptions options, IEntityStore store, DeclarativeConfigService declarative,
        StoreConfigPublisher publisher, ILogger<StoreInitializer> logger, SnapshotStart? snapshotStart = null)
    {
        _snapshotStart = snapshotStart;
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _declarative = declarative ?? throw new ArgumentNullException(nameof(declarative));
        _publisher = publisher ?? throw new ArgumentNullException(nameof(publisher));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<string> migrated;
        try { migrated = await _store.MigrateAsync(cancellationToken); }
        catch (DatabaseUnavailableException e) when (_snapshotStart is not null)
        {
            await _snapshotStart.StartAsync(e, cancellationToken); // serves the persisted snapshot, or fails the start
            return;
        }
        foreach (var name in migrated) LogMigrated(name);
        if (_options.Database == DatabaseKind.Off && _options.DeclarativeConfig is { } path)
        {
            var result = await _declarative.ApplyAsync(await File.ReadAllBytesAsync(path, cancellationToken), cancellationToken);
            foreach (var warning in result.Warnings) LogDeclarativeWarning(path, warning);
            if (!result.IsValid)
                throw new InvalidOperationException($"error parsing declarative config file {path}:\n{DeclarativeReport.Describe(result.Error!)}");
            LogDeclarativeLoaded(path);
            return;
        }
        try { await _publisher.PublishAsync(cancellationToken); }
        catch (DatabaseUnavailableException e) when (_snapshotStart is not null)
        {
            await _snapshotStart.StartAsync(e, cancellationToken); // gone between the migrations and the first read
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "database migration {Name} executed")]
    private partial void LogMigrated(string name);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "declarative config file {Path}: {Warning}")]
    private partial void LogDeclarativeWarning(string path, string warning);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "loaded declarative configuration from {Path}")]
    private partial void LogDeclarativeLoaded(string path);
}
