using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Store.Declarative;

/// <summary>
/// The rows of a declarative load as the store gives them back once stored: each row is its JSON text, parsed when
/// read (<see cref="JsonTextRows"/>: every value a parsed JSON element, as after <c>JsonNode.Parse</c> of the row read
/// back), and each entity's rows in primary-key order (the store's <c>ORDER BY id</c>: the router breaks ties by
/// position). Publishing these instead of reading every row back from the store saves the read and publishes what a
/// read-back would.
/// </summary>
internal static class StoredRows
{
    /// <summary>The validated rows of a load (as <see cref="DeclarativeLoader"/> gives them, text already; others are
    /// written as text here) in the store's order; the text is shared with <paramref name="validated"/>, not copied.</summary>
    public static Dictionary<EntitySchema, IReadOnlyList<JsonObject>> Of(EntityRegistry registry,
        IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> validated)
    {
        var stored = new Dictionary<EntitySchema, IReadOnlyList<JsonObject>>();
        foreach (var schema in registry.Schemas)
        {
            if (!validated.TryGetValue(schema, out var rows)) { stored[schema] = []; continue; }
            var text = rows as JsonTextRows ?? JsonTextRows.Of(rows);
            stored[schema] = text.OrderedById();
        }
        return stored;
    }
}
