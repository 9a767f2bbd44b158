using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Model;
using Gatehouse.Store.Outage;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Store;

/// <summary>
/// Reads the whole configuration from the store and publishes it as a new <see cref="GatewayConfig"/> with
/// a higher version. Called after every successful change, whatever its source (Admin API, declarative).
/// </summary>
public sealed partial class StoreConfigPublisher
{
    private readonly IEntityStore _store;
    private readonly EntityRegistry _registry;
    private readonly GatewayConfigPublisher _publisher;
    private readonly ILogger<StoreConfigPublisher> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConfigSnapshot? _snapshot;

    /// <param name="snapshot">Keeps the rows of every publish for outages (database = postgres only).</param>
    public StoreConfigPublisher(IEntityStore store, EntityRegistry registry, GatewayConfigPublisher publisher,
        ILogger<StoreConfigPublisher> logger, ConfigSnapshot? snapshot = null)
    {
        _snapshot = snapshot;
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
        _publisher = publisher ?? throw new ArgumentNullException(nameof(publisher));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    public async Task<GatewayConfig> PublishAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var rows = new Dictionary<EntitySchema, IReadOnlyList<JsonObject>>();
            foreach (var schema in _registry.Schemas) rows[schema] = await _store.ListAllAsync(schema, ct);
            var document = _snapshot?.Serialize(rows);
            var config = GatewayConfigBuilder.Build(_registry, rows, _publisher.Current.Version + 1);
            _publisher.Publish(config);
            if (document is not null) _snapshot!.Record(document);
            LogPublished(config.Version, config.Services.Length, config.Routes.Length);
            return config;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Publishes rows that did not come from the store now (the persisted snapshot of a node starting while
    /// the database is unreachable).</summary>
    public async Task<GatewayConfig> PublishRowsAsync(IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> rows, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var config = GatewayConfigBuilder.Build(_registry, rows, _publisher.Current.Version + 1);
            _publisher.Publish(config);
            LogPublished(config.Version, config.Services.Length, config.Routes.Length);
            return config;
        }
        finally
        {
            _gate.Release();
        }
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information,
        Message = "published gateway configuration version {Version} ({Services} services, {Routes} routes)")]
    private partial void LogPublished(long version, int services, int routes);
}
