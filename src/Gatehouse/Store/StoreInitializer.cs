using Gatehouse.Config;
using Gatehouse.Store.Declarative;
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

    public StoreInitializer(GatehouseOptions options, IEntityStore store, DeclarativeConfigService declarative,
        StoreConfigPublisher publisher, ILogger<StoreInitializer> logger)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _declarative = declarative ?? throw new ArgumentNullException(nameof(declarative));
        _publisher = publisher ?? throw new ArgumentNullException(nameof(publisher));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var name in await _store.MigrateAsync(cancellationToken)) LogMigrated(name);
        if (_options.Database == DatabaseKind.Off && _options.DeclarativeConfig is { } path)
        {
            var result = await _declarative.ApplyAsync(await File.ReadAllBytesAsync(path, cancellationToken), cancellationToken);
            foreach (var warning in result.Warnings) LogDeclarativeWarning(path, warning);
            if (!result.IsValid)
                throw new InvalidOperationException($"error parsing declarative config file {path}:\n{DeclarativeReport.Describe(result.Error!)}");
            LogDeclarativeLoaded(path);
            return;
        }
        await _publisher.ReloadAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "database migration {Name} executed")]
    private partial void LogMigrated(string name);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "declarative config file {Path}: {Warning}")]
    private partial void LogDeclarativeWarning(string path, string warning);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "loaded declarative configuration from {Path}")]
    private partial void LogDeclarativeLoaded(string path);
}
