using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Store.Sqlite;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Store.Outage;

/// <summary>
/// The rows of the last configuration this node published from the shared database, kept for outages: in memory
/// (an in-memory SQLite store built from them when the Admin API first reads during an outage) and on disk under the
/// prefix (<see cref="FileName"/>, written to a temp file then renamed, mode 0600 since rows hold credentials), so
/// a node that starts while the database is unreachable can serve its last configuration.
/// </summary>
public sealed partial class ConfigSnapshot : IDisposable
{
    public const string FileName = "config_snapshot.json";
    private const int Format = 1;

    private readonly EntityRegistry _registry;
    private readonly TimeProvider _time;
    private readonly ILogger<ConfigSnapshot> _logger;
    private readonly SemaphoreSlim _loadGate = new(1, 1);
    private byte[]? _document; // the serialized rows of the last publish (what the file holds)
    private byte[]? _loadedDocument; // what _store holds
    private SqliteEntityStore? _store;

    public ConfigSnapshot(string prefix, EntityRegistry registry, TimeProvider time, ILogger<ConfigSnapshot> logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        Path = System.IO.Path.Combine(prefix, FileName);
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>Where the snapshot is persisted.</summary>
    public string Path { get; }

    /// <summary>When the rows held were published (read from the database).</summary>
    public DateTimeOffset? PublishedAt { get; private set; }

    /// <summary>Keeps and persists the rows just published. Called by the publisher, one publish at a time; a failing
    /// disk write is logged, never fails the publish.</summary>
    public void Record(IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> rows)
    {
        var now = _time.GetUtcNow();
        var entities = new JsonObject();
        foreach (var (schema, list) in rows) entities[schema.Name] = new JsonArray(list.Select(r => (JsonNode)r.DeepClone()).ToArray());
        var document = JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["format"] = Format,
            ["published_at"] = now.ToString("O"),
            ["entities"] = entities,
        });
        Volatile.Write(ref _document, document);
        PublishedAt = now;
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            var temp = Path + ".tmp";
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var file = new FileStream(temp, options))
            {
                file.Write(document);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, Path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogPersistFailed(Path, e.Message);
        }
    }

    /// <summary>Reads the persisted snapshot (at start, when the database is unreachable); null when there is none.
    /// Entities this build does not know are skipped.</summary>
    public IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>>? Load()
    {
        if (!File.Exists(Path)) return null;
        var document = File.ReadAllBytes(Path);
        var (rows, publishedAt) = Parse(document);
        Volatile.Write(ref _document, document);
        PublishedAt = publishedAt;
        return rows;
    }

    /// <summary>An in-memory store holding the last published rows, for Admin API reads during an outage; null before
    /// anything was published or loaded.</summary>
    public async Task<IEntityStore?> StoreAsync(CancellationToken ct)
    {
        var document = Volatile.Read(ref _document);
        if (document is null) return null;
        await _loadGate.WaitAsync(ct);
        try
        {
            if (_store is null)
            {
                _store = SqliteEntityStore.InMemory(_registry, _time);
                await _store.MigrateAsync(ct);
            }
            if (!ReferenceEquals(_loadedDocument, document))
            {
                await _store.ReplaceAllAsync(Parse(document).Rows, ct);
                _loadedDocument = document;
            }
            return _store;
        }
        finally { _loadGate.Release(); }
    }

    private (IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> Rows, DateTimeOffset PublishedAt) Parse(byte[] document)
    {
        var root = JsonNode.Parse(document)?.AsObject() ?? throw new InvalidDataException($"{Path}: not a JSON object");
        if (root["format"]?.GetValue<int>() != Format) throw new InvalidDataException($"{Path}: unknown format");
        var rows = new Dictionary<EntitySchema, IReadOnlyList<JsonObject>>();
        foreach (var schema in _registry.Schemas)
            rows[schema] = root["entities"]?[schema.Name] is JsonArray list ? list.Select(r => r!.DeepClone().AsObject()).ToList() : [];
        return (rows, DateTimeOffset.Parse(root["published_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
    }

    public void Dispose()
    {
        _store?.Dispose();
        _loadGate.Dispose();
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Error, Message = "could not persist the configuration snapshot to {Path}: {Reason}")]
    private partial void LogPersistFailed(string path, string reason);
}
