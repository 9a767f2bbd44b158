using Gatehouse.Config;
using Gatehouse.Store.Declarative;
using Gatehouse.Store.Outage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Store;

/// <summary>
/// Runs before the listeners accept traffic: migrates the database (SQLite; PostgreSQL only when
/// <see cref="StoreStartupOptions.RunMigrations"/>, else it checks the schema is up to date as Kong's start does) or loads
/// <c>declarative_config</c> (DB-less), then publishes the first <see cref="Model.GatewayConfig"/>.
/// A bad declarative file, or a database this binary cannot use, stops the start, as in Kong.
/// </summary>
internal sealed partial class StoreInitializer : IHostedService
{
    private readonly GatehouseOptions _options;
    private readonly IEntityStore _store;
    private readonly DeclarativeConfigService _declarative;
    private readonly StoreConfigPublisher _publisher;
    private readonly ILogger<StoreInitializer> _logger;
    private readonly SnapshotStart? _snapshotStart;
    private readonly StoreStartupOptions _startup;

    /// <param name="snapshotStart">database = postgres: what to do when the database is unreachable at start.</param>
    public StoreInitializer(GatehouseOptions options, IEntityStore store, DeclarativeConfigService declarative,
        StoreConfigPublisher publisher, ILogger<StoreInitializer> logger, StoreStartupOptions startup, SnapshotStart? snapshotStart = null)
    {
        _startup = startup ?? throw new ArgumentNullException(nameof(startup));
        _snapshotStart = snapshotStart;
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _declarative = declarative ?? throw new ArgumentNullException(nameof(declarative));
        _publisher = publisher ?? throw new ArgumentNullException(nameof(publisher));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try { await CheckOrMigrateAsync(cancellationToken); }
        catch (DatabaseUnavailableException e) when (_snapshotStart is not null)
        {
            await _snapshotStart.StartAsync(e, cancellationToken); // serves the persisted snapshot, or fails the start
            return;
        }
        if (_options.Database == DatabaseKind.Off && _options.DeclarativeConfig is { } path)
        {
            var result = await _declarative.ApplyAsync(await File.ReadAllBytesAsync(path, cancellationToken), keepEntities: false, cancellationToken);
            foreach (var warning in result.Warnings) LogDeclarativeWarning(path, warning);
            if (!result.IsValid)
                throw new InvalidOperationException($"error parsing declarative config file {path}:\n{DeclarativeReport.Describe(result.Error!)}");
            LogDeclarativeLoaded(path);
            return;
        }
        try { await _publisher.ReloadAsync(cancellationToken); }
        catch (DatabaseUnavailableException e) when (_snapshotStart is not null)
        {
            await _snapshotStart.StartAsync(e, cancellationToken); // gone between the migrations and the first read
        }
    }

    /// <summary>Kong's start: a PostgreSQL database must already be bootstrapped and up to date (unless
    /// --run-migrations); SQLite is migrated (ours). A database with migrations this binary does not know stops it.</summary>
    private async Task CheckOrMigrateAsync(CancellationToken ct)
    {
        var state = await MigrationState.ReadAsync(_store, ct);
        if (state.UnknownMessage() is { } unknown) throw new InvalidOperationException(unknown);
        if (_options.Database == DatabaseKind.Postgres && !_startup.RunMigrations)
        {
            if (state.StartRefusal() is { } refusal) throw new InvalidOperationException(refusal);
        }
        else foreach (var name in await _store.MigrateAsync(ct)) LogMigrated(name);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "database migration {Name} executed")]
    private partial void LogMigrated(string name);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "declarative config file {Path}: {Warning}")]
    private partial void LogDeclarativeWarning(string path, string warning);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "loaded declarative configuration from {Path}")]
    private partial void LogDeclarativeLoaded(string path);
}

/// <summary>Whether a node on PostgreSQL runs pending migrations at start. <c>gatehouse start</c> does only with
/// <c>--run-migrations</c> (Kong's start); hosts built in-process (tests, embedding) do by default.</summary>
public sealed record StoreStartupOptions(bool RunMigrations);
