using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Store.Declarative;

/// <summary>
/// DB-less configuration: validates a whole declarative file and swaps it in atomically (a bad file changes
/// nothing), then publishes the new <see cref="Model.GatewayConfig"/>. Also exports the current state.
/// </summary>
public sealed class DeclarativeConfigService
{
    private readonly IEntityStore _store;
    private readonly EntityRegistry _registry;
    private readonly DeclarativeLoader _loader;
    private readonly StoreConfigPublisher _publisher;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string _hash = new('0', 32);

    public DeclarativeConfigService(IEntityStore store, EntityRegistry registry, DeclarativeLoader loader, StoreConfigPublisher publisher)
    {
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
    public async Task<DeclarativeResult> ApplyAsync(ReadOnlyMemory<byte> content, CancellationToken ct)
    {
        var result = _loader.Load(content.Span);
        if (!result.IsValid) return result;
        await _gate.WaitAsync(ct);
        try
        {
            await _store.ReplaceAllAsync(result.Entities!, ct);
            Volatile.Write(ref _hash, HashOf(content.Span));
            await _publisher.PublishAsync(ct);
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task<DeclarativeResult> ApplyAsync(string content, CancellationToken ct) => ApplyAsync(Encoding.UTF8.GetBytes(content), ct);

    public async Task<string> ExportYamlAsync(CancellationToken ct)
    {
        var rows = new Dictionary<EntitySchema, IReadOnlyList<JsonObject>>();
        foreach (var schema in _registry.Schemas) rows[schema] = await _store.ListAllAsync(schema, ct);
        return DeclarativeExporter.ToYaml(_registry, rows);
    }
}
