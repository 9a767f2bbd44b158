using System.Diagnostics;
using System.Runtime;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Store.Declarative;

/// <summary>
/// DB-less configuration: validates a whole declarative file and swaps it in atomically (a bad file changes
/// nothing), then publishes the new <see cref="Model.GatewayConfig"/>. Also exports the current state.
/// </summary>
public sealed partial class DeclarativeConfigService
{
    /// <summary>From this size on, a load is followed by a compacting collection (<see cref="CompactAfterLoad"/>).</summary>
    internal const int CompactAfterBytes = 256 << 10;

    private readonly ILogger _logger;
    private readonly IEntityStore _store;
    private readonly EntityRegistry _registry;
    private readonly DeclarativeLoader _loader;
    private readonly StoreConfigPublisher _publisher;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string _hash = new('0', 32);

    public DeclarativeConfigService(IEntityStore store, EntityRegistry registry, DeclarativeLoader loader, StoreConfigPublisher publisher,
        ILogger<DeclarativeConfigService>? logger = null)
    {
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
        _loader = loader ?? throw new ArgumentNullException(nameof(loader));
        _publisher = publisher ?? throw new ArgumentNullException(nameof(publisher));
    }

    /// <summary>MD5 of the last applied file, as Kong reports in <c>/status</c> (zeros before any).</summary>
    public string ConfigurationHash => Volatile.Read(ref _hash);

    public DeclarativeLoader Loader => _loader;

    /// <summary>Kong's configuration hash: the MD5 of the file's text, lower-case hex.</summary>
    public static string HashOf(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(MD5.HashData(content));

    /// <summary>Validates and applies; returns the loaded entities or the declarative error.</summary>
    public Task<DeclarativeResult> ApplyAsync(ReadOnlyMemory<byte> content, CancellationToken ct) => ApplyAsync(content, keepEntities: true, ct);

    /// <summary>Validates and applies. With <paramref name="keepEntities"/> false the result carries no entities (only
    /// validity, error and warnings): the validated rows are dropped as soon as they are stored, before the
    /// configuration is read back and compiled, and a large load is followed by <see cref="CompactAfterLoad"/> here.
    /// Callers that need the entities (POST /config answers with them) call <see cref="CompactAfterLoad"/> once they
    /// are done with them.</summary>
    public Task<DeclarativeResult> ApplyAsync(ReadOnlyMemory<byte> content, bool keepEntities, CancellationToken ct) =>
        ApplyAsync(content, keepEntities, validated: null, compact: !keepEntities, ct);

    /// <summary>Validates and applies; <paramref name="validated"/> is given the validated rows once the whole file is
    /// valid, before anything is stored (POST /config writes its answer from them), and they are let go of afterwards:
    /// the result carries no entities. The caller calls <see cref="CompactAfterLoad"/> once done with what it made of
    /// them. Whatever fails after <paramref name="validated"/> ran (the store) leaves the previous configuration.</summary>
    public Task<DeclarativeResult> ApplyAsync(ReadOnlyMemory<byte> content,
        Action<IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>>> validated, CancellationToken ct) =>
        ApplyAsync(content, keepEntities: false, validated ?? throw new ArgumentNullException(nameof(validated)), compact: false, ct);

    private async Task<DeclarativeResult> ApplyAsync(ReadOnlyMemory<byte> content, bool keepEntities,
        Action<IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>>>? validated, bool compact, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var allocated = GC.GetTotalAllocatedBytes();
        var large = content.Length >= CompactAfterBytes;
        // the file's tree is garbage once the loader has its compact form, much of it promoted while it was built: given
        // back before the records are loaded (the load's peak was the tree, whole, and what each record hung on it)
        var result = large ? _loader.Load(content.Span, Compact) : _loader.Load(content.Span);
        if (!result.IsValid) return result;
        // the file's compact copy, the records' trees and their validation are garbage now: given back here, before the
        // store and the models add theirs, they are not under the load's peak; what the caller makes of the rows (POST
        // /config's answer) is made after it, not on top
        if (large) Compact();
        validated?.Invoke(result.Entities!);
        var loaded = Stopwatch.GetTimestamp();
        await _gate.WaitAsync(ct);
        try
        {
            // the rows as the store returns them, published without reading them back (StoredRows); with
            // keepEntities false the validated rows are dropped as they are converted
            Dictionary<EntitySchema, IReadOnlyList<JsonObject>>? rows = StoredRows.Of(_registry, result.Entities!);
            if (!keepEntities) result = new DeclarativeResult(null, null) { Warnings = result.Warnings };
            await _store.ReplaceAllAsync(rows, ct);
            var stored = Stopwatch.GetTimestamp();
            var hash = HashOf(content.Span);
            Volatile.Write(ref _hash, hash);
            // the file's MD5 identifies this configuration: the store's hash of every row (an MD5 over the JSON of
            // 100,000 rows) is not computed for it; the cluster status reports the same hash as /status. The rows
            // are this load's own: each is let go of as its model is built, so that the rows of a large file, its
            // models and the previous configuration are not all live at once (the peak of a load). The text let go of
            // is in the old generation (it outlived the collection after validation) and stays there, dead, until a
            // full collection: a large load collects once the models are built, before they are compiled beside the
            // previous configuration (100,000 routes, alternated: the POST's peak 409-412 -> 353-363 MB, the start's
            // 287-291 -> 246-253)
            await _publisher.PublishStoredAsync(rows, hash, ct, consume: true, built: large ? Compact : null);
            rows = null;
            var published = Stopwatch.GetTimestamp();
            LogApplied(content.Length, Ms(started, published), Ms(started, loaded), Ms(loaded, stored), Ms(stored, published),
                (GC.GetTotalAllocatedBytes() - allocated) >> 20);
            if (compact) CompactAfterLoad(content.Length);
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Parsing, validating, storing and publishing a large file leaves hundreds of MB of garbage (JSON trees,
    /// documents, rows read back) that the GC would otherwise keep committed: a node loaded with 100,000 routes held
    /// ~1.4 GB of RSS for ~0.2 GB of live objects. One blocking, compacting collection after such a load (it happens
    /// at start-up and on a POST /config, never on the proxy path) gives that memory back to the system. Run it once the
    /// load's result is no longer referenced, or it keeps those rows.</summary>
    public void CompactAfterLoad(int contentBytes)
    {
        if (contentBytes < CompactAfterBytes) return;
        var started = Stopwatch.GetTimestamp();
        Compact();
        LogCompacted(Ms(started, Stopwatch.GetTimestamp()), GC.GetTotalMemory(false) >> 20);
    }

    private static void Compact()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    private static long Ms(long from, long to) => (long)Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

    [LoggerMessage(EventId = 2120, Level = LogLevel.Information,
        Message = "declarative configuration of {Bytes} bytes applied in {TotalMs} ms (parse and validate {LoadMs} ms, store {StoreMs} ms, publish {PublishMs} ms; {AllocatedMb} MB allocated)")]
    private partial void LogApplied(int bytes, long totalMs, long loadMs, long storeMs, long publishMs, long allocatedMb);

    [LoggerMessage(EventId = 2121, Level = LogLevel.Information,
        Message = "compacted the heap after a large declarative configuration in {Ms} ms ({HeapMb} MB live)")]
    private partial void LogCompacted(long ms, long heapMb);

    public Task<DeclarativeResult> ApplyAsync(string content, CancellationToken ct) => ApplyAsync(Encoding.UTF8.GetBytes(content), ct);

    public async Task<string> ExportYamlAsync(CancellationToken ct)
    {
        var rows = new Dictionary<EntitySchema, IReadOnlyList<JsonObject>>();
        foreach (var schema in _registry.Schemas) rows[schema] = await _store.ListAllAsync(schema, ct);
        return DeclarativeExporter.ToYaml(_registry, rows);
    }
}
