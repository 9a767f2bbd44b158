using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Entities;
using Gatehouse.Model;
using Gatehouse.Store.Outage;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Store;

/// <summary>
/// Reads the whole configuration from the store (one consistent snapshot) and publishes it as a new
/// <see cref="GatewayConfig"/> with a higher version. <see cref="PublishAsync"/> follows this node's own changes
/// (Admin API, declarative) and tells the other nodes; <see cref="ReloadAsync"/> follows theirs, or starts the node.
/// </summary>
public sealed partial class StoreConfigPublisher
{
    private readonly IEntityStore _store;
    private readonly EntityRegistry _registry;
    private readonly GatewayConfigPublisher _publisher;
    private readonly IClusterEvents _cluster;
    private readonly ILogger<StoreConfigPublisher> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConfigSnapshot? _snapshot;
    private readonly VaultResolver? _vaults;
    private readonly bool _entityDocuments;
    private string _hash = "";

    /// <param name="snapshot">Keeps the rows of every publish for outages (database = postgres only).</param>
    /// <param name="vaults">Resolves vault references in the published configuration; null leaves them as they are.</param>
    /// <param name="options">The node's conf: with <c>wasm = off</c> no filter runs, so routes and services are published
    /// without the JSON only filters read (<see cref="GatewayConfig.EntityDocuments"/>); null: with it.</param>
    public StoreConfigPublisher(IEntityStore store, EntityRegistry registry, GatewayConfigPublisher publisher,
        ILogger<StoreConfigPublisher> logger, IClusterEvents? cluster = null, ConfigSnapshot? snapshot = null,
        VaultResolver? vaults = null, GatehouseOptions? options = null)
    {
        _entityDocuments = options?.Wasm ?? true;
        _vaults = vaults;
        _snapshot = snapshot;
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
        _publisher = publisher ?? throw new ArgumentNullException(nameof(publisher));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _cluster = cluster ?? new NoOtherNodes();
    }

    /// <summary>MD5 (lower-case hex) of the entities last published: equal on nodes that serve the same rows.</summary>
    public string ConfigurationHash => Volatile.Read(ref _hash);

    /// <summary>After a change this node committed: publishes it, then tells the other nodes. A failure to tell them
    /// is logged, not thrown (the change is committed and served here); they see it at their next reload.</summary>
    public async Task<GatewayConfig> PublishAsync(CancellationToken ct) => await AnnouncedAsync(await ReloadAsync(ct), ct);

    /// <summary>Re-reads everything (one consistent read) and publishes it, telling nobody. With a
    /// <see cref="ConfigSnapshot"/>, the rows are also kept for outages (memory and prefix).</summary>
    public async Task<GatewayConfig> ReloadAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            return PublishAndKeep(await _store.SnapshotAsync(_registry.Schemas, ct), hash: null);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>After a declarative load this node has just stored: publishes <paramref name="rows"/>, which must be what the
    /// store now holds, as <see cref="ReloadAsync"/> would read them back (<see cref="Declarative.StoredRows"/>), then
    /// tells the other nodes as <see cref="PublishAsync"/> does. Reading 100,000 rows back and parsing them again was
    /// a good part of a large load's CPU and a second copy of the configuration at its peak.</summary>
    /// <param name="hash">what identifies these rows, reported as <see cref="ConfigurationHash"/> (DB-less: the declarative
    /// file's MD5, which <c>/status</c> reports too) instead of the MD5 of every row; null: the MD5 of every row</param>
    /// <param name="consume">the lists in <paramref name="rows"/> are the caller's own: with a <paramref name="hash"/>
    /// and no outage snapshot (nothing reads the rows after their conversion), each row is let go of once converted
    /// (<see cref="GatewayConfigBuilder.Build"/>): the lists are left with their slots cleared</param>
    /// <param name="built">runs once the rows are models, before the configuration is compiled and published: a caller
    /// that consumed a large load's rows collects there, so that the rows' text, dead but in the old generation, is not
    /// under the compile's peak with the previous configuration and the new one</param>
    public async Task<GatewayConfig> PublishStoredAsync(IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> rows, string? hash,
        CancellationToken ct, bool consume = false, Action? built = null)
    {
        GatewayConfig config;
        await _gate.WaitAsync(ct);
        try { config = PublishAndKeep(rows, hash, consume && hash is not null && _snapshot is null, built); }
        finally { _gate.Release(); }
        return await AnnouncedAsync(config, ct);
    }

    /// <summary>Publishes <paramref name="rows"/> and, with a <see cref="ConfigSnapshot"/>, keeps them for outages.</summary>
    private GatewayConfig PublishAndKeep(IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> rows, string? hash, bool consume = false,
        Action? built = null)
    {
        var document = _snapshot?.Serialize(rows);
        var config = Publish(rows, hash, consume, built);
        if (document is not null) _snapshot!.Record(document);
        return config;
    }

    /// <summary>Tells the other nodes; a failure is logged, not thrown (the change is committed and served here).</summary>
    private async Task<GatewayConfig> AnnouncedAsync(GatewayConfig config, CancellationToken ct)
    {
        try { await _cluster.AnnounceChangeAsync(ct); }
        catch (Exception e) when (e is not OperationCanceledException) { LogAnnounceFailed(e); }
        return config;
    }

    /// <summary>Publishes rows that did not come from the store now (the persisted snapshot of a node starting while
    /// the database is unreachable).</summary>
    public async Task<GatewayConfig> PublishRowsAsync(IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> rows, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try { return Publish(rows); }
        finally { _gate.Release(); }
    }

    private GatewayConfig Publish(IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> rows, string? hash = null, bool consume = false,
        Action? built = null)
    {
        var config = GatewayConfigBuilder.Build(_registry, rows, _publisher.Current.Version + 1, _vaults,
            u => LogUnresolvedReference(u.Entity, u.Id, u.Field, u.Reference, u.Error), consume, _entityDocuments);
        Volatile.Write(ref _hash, hash ?? HashOf(_registry, rows));
        built?.Invoke();
        _publisher.Publish(config);
        LogPublished(config.Version, config.Services.Length, config.Routes.Length);
        return config;
    }

    private static string HashOf(EntityRegistry registry, IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> rows)
    {
        // the bytes of row.ToJsonString() + "\n" per row, written into one reused buffer: with 100,000 rows, a string
        // and a byte array per row were a good part of a declarative load's garbage
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var buffer = new ArrayBufferWriter<byte>(4096);
        using var writer = new Utf8JsonWriter(buffer);
        foreach (var schema in registry.Schemas)
        {
            if (!rows.TryGetValue(schema, out var list)) continue;
            md5.AppendData(Encoding.UTF8.GetBytes(schema.Name + "\n"));
            foreach (var row in list)
            {
                buffer.ResetWrittenCount();
                writer.Reset(buffer);
                row.WriteTo(writer);
                writer.Flush();
                md5.AppendData(buffer.WrittenSpan);
                md5.AppendData("\n"u8);
            }
        }
        return Convert.ToHexStringLower(md5.GetHashAndReset());
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information,
        Message = "published gateway configuration version {Version} ({Services} services, {Routes} routes)")]
    private partial void LogPublished(long version, int services, int routes);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning,
        Message = "unable to resolve reference {Reference} of {Entity} {Id} field {Field} ({Error}); the field is empty, as Kong")]
    private partial void LogUnresolvedReference(string entity, string? id, string field, string reference, string error);

    [LoggerMessage(EventId = 2112, Level = LogLevel.Warning,
        Message = "the change is served by this node, but telling the other nodes failed; they see it at their next reload")]
    private partial void LogAnnounceFailed(Exception error);
}
