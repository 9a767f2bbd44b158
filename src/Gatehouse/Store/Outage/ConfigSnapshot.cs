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
    private Document? _document; // the rows of the last publish (what the file holds)
    private Document? _loadedDocument; // what _store holds
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
    public DateTimeOffset? PublishedAt => Volatile.Read(ref _document)?.PublishedAt;

    /// <summary>The document that <see cref="Record"/> keeps: called before the rows are handed to the published
    /// configuration, whose readers (proxy threads) must not race with this one.</summary>
    public Document Serialize(IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var now = _time.GetUtcNow();
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("format", Format);
            writer.WriteString("published_at", now);
            writer.WriteStartObject("entities");
            foreach (var (schema, list) in rows)
            {
                writer.WriteStartArray(schema.Name);
                foreach (var row in list) row.WriteTo(writer);
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        return new Document(buffer.ToArray(), now);
    }

    /// <summary>Serialized rows and when they were read from the database.</summary>
    public sealed record Document(byte[] Bytes, DateTimeOffset PublishedAt);

    /// <summary>Keeps and persists a document of <see cref="Serialize"/> once its rows are published. Called by the
    /// publisher, one publish at a time; a failing disk write is logged, never fails the publish.</summary>
    public void Record(Document document)
    {
        ArgumentNullException.ThrowIfNull(document);
        Volatile.Write(ref _document, document);
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            var temp = Path + ".tmp";
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var file = new FileStream(temp, options))
            {
                file.Write(document.Bytes);
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
        var bytes = File.ReadAllBytes(Path);
        var (rows, publishedAt) = Parse(bytes);
        Volatile.Write(ref _document, new Document(bytes, publishedAt));
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
                await _store.ReplaceAllAsync(Parse(document.Bytes).Rows, ct);
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
