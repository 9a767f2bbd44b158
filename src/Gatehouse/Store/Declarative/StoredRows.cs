using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Store.Declarative;

/// <summary>
/// The rows of a declarative load as the store gives them back once stored: each row is its stored JSON text parsed
/// again (so every value is a parsed JSON element, as after <c>JsonNode.Parse</c> of the row read back: a number is
/// not a <c>JsonValue&lt;double&gt;</c> or <c>&lt;int&gt;</c> any more, which readers such as <c>GetValue&lt;int&gt;</c>
/// tell apart; except <see cref="PublishedAsValidated"/>), and each entity's rows in primary-key order (the store's <c>ORDER BY id</c>: the router breaks ties by
/// position). Publishing these instead of reading every row back from the in-memory store saves the read and a
/// second string of every row, and publishes what a read-back would.
/// </summary>
internal static class StoredRows
{
    /// <summary>The entities whose model conversions read every value through <see cref="EntityReader"/> (numbers
    /// through <see cref="EntityJson.TryNumber"/>, whatever their kind) and keep no JSON node, so that they convert a
    /// validated row exactly as its parsed form: their rows are published as validated, in the store's order, without
    /// the write and parse (routes and services are nearly all of a large file). Plugins, filter chains and the other
    /// entities hand JSON nodes (configs) on to code that may read them kind by kind: their rows are parsed again.</summary>
    internal static readonly string[] PublishedAsValidated = ["routes", "services"];

    /// <param name="release">the validated lists are this load's own: each row is dropped from its list once
    /// converted (a 100,000-route load otherwise holds both forms of every row at once)</param>
    public static Dictionary<EntitySchema, IReadOnlyList<JsonObject>> Of(EntityRegistry registry,
        IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> validated, bool release)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using var writer = new Utf8JsonWriter(buffer);
        var stored = new Dictionary<EntitySchema, IReadOnlyList<JsonObject>>();
        foreach (var schema in registry.Schemas)
        {
            if (!validated.TryGetValue(schema, out var rows)) { stored[schema] = []; continue; }
            var owned = release && rows is IList<JsonObject> { IsReadOnly: false } list ? list : null;
            var parsed = new (string Id, JsonObject Row)[rows.Count];
            var asValidated = PublishedAsValidated.Contains(schema.Name);
            for (var i = 0; i < rows.Count; i++)
            {
                if (asValidated)
                {
                    parsed[i] = (EntityJson.String(rows[i], "id") ?? throw new ArgumentException($"{schema.Name} row without id"), rows[i]);
                    if (owned is not null) owned[i] = null!;
                    continue;
                }
                buffer.ResetWrittenCount();
                writer.Reset(buffer);
                rows[i].WriteTo(writer);
                writer.Flush();
                var id = EntityJson.String(rows[i], "id") ?? throw new ArgumentException($"{schema.Name} row without id");
                parsed[i] = (id, JsonNode.Parse(buffer.WrittenSpan)!.AsObject());
                if (owned is not null) owned[i] = null!;
            }
            // the store's ORDER BY id: SQLite compares text byte by byte, which is ordinal order for ids (ASCII);
            // a stable sort, though ids are unique within an entity
            var ordered = parsed.OrderBy(p => p.Id, StringComparer.Ordinal).Select(p => p.Row).ToArray();
            stored[schema] = ordered;
        }
        return stored;
    }
}
