using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Entities;

/// <summary>
/// Typed reads of one stored entity for its model conversion (<c>ToModel</c>). A value the row lacks (a row stored
/// before its field existed) is the schema's default, so a conversion states no defaults of its own; a name the
/// schema does not declare throws rather than reading null.
/// </summary>
public readonly struct EntityReader(EntitySchema schema, JsonObject entity)
{
    public Guid Guid(string field) => System.Guid.Parse(String(field) ?? throw Missing(field));

    public string? String(string field) =>
        Value(field) is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    /// <summary>A field that always has a value (required, or with a default).</summary>
    public string RequiredString(string field) => String(field) ?? throw Missing(field);

    public long? LongOrNull(string field) => EntityJson.TryNumber(Value(field), out var d) ? (long)d : null;

    public int? IntOrNull(string field) => LongOrNull(field) is { } n ? checked((int)n) : null;

    /// <summary>A field that always has a value (required, or with a default).</summary>
    public int Int(string field) => IntOrNull(field) ?? throw Missing(field);

    public bool? BoolOrNull(string field) =>
        Value(field) is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? v.GetValue<bool>() : null;

    /// <summary>A field that always has a value (required, or with a default).</summary>
    public bool Bool(string field) => BoolOrNull(field) ?? throw Missing(field);

    /// <summary>An array of strings, exactly sized (an empty one is shared). A value from the elements' enumeration
    /// (<see cref="FieldDefinition.OneOf"/>, e.g. protocols) is the schema's own string, not a copy per row: a
    /// configuration of 100,000 routes held 200,000 copies of "http" and "https".</summary>
    public IReadOnlyList<string> Strings(string field) => EntityJson.StringsOf(Value(field) as JsonArray, schema.Field(field)?.Elements?.OneOf);

    /// <summary><see cref="Strings(string)"/>, or <paramref name="shared"/> itself when the values are the same, in the
    /// same order: one list for the value most rows have (a route's default protocols) instead of one per row.</summary>
    public IReadOnlyList<string> Strings(string field, IReadOnlyList<string> shared)
    {
        ArgumentNullException.ThrowIfNull(shared);
        if (Value(field) is JsonArray array && array.Count == shared.Count)
        {
            var same = true;
            for (var i = 0; i < shared.Count && same; i++)
                same = array[i] is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() == shared[i];
            if (same) return shared;
        }
        return Strings(field);
    }

    /// <summary>The id inside a foreign field (<c>{"id": "..."}</c>), or null.</summary>
    public Guid? ForeignId(string field) =>
        Value(field) is JsonObject f && f["id"] is JsonValue v && v.TryGetValue<string>(out var s) && System.Guid.TryParse(s, out var g) ? g : null;

    private JsonNode? Value(string field) =>
        entity[field] ?? (schema.Field(field) ?? throw new ArgumentException($"{schema.Name} has no field '{field}'", nameof(field))).Default;

    private InvalidOperationException Missing(string field) => new($"{schema.Name}.{field} has no value and no default");
}
