using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Store;

/// <summary>
/// Which fields of an entity get their own indexed column besides the JSON document (every unique field and every
/// foreign key), the column's name and value: the same in every store, so lookups, uniqueness and reference checks
/// use indexes while the table shape stays generic.
/// </summary>
internal static class EntityColumns
{
    public static string Column(FieldDefinition field) => field.Type == FieldType.Foreign ? field.Name + "_id" : field.Name;

    /// <summary>Fields that get their own column.</summary>
    public static IEnumerable<FieldDefinition> IndexedFields(EntitySchema schema) =>
        schema.Fields.Where(f => f.Name != "id" && (f.Unique || f.Type == FieldType.Foreign));

    /// <summary>The column's text: a foreign key's id in "D" form, a string as is, anything else as JSON.</summary>
    public static string? Value(JsonObject entity, FieldDefinition field) => field.Type switch
    {
        FieldType.Foreign => EntityJson.ForeignId(entity, field.Name)?.ToString("D"),
        _ => entity[field.Name] switch { null => null, JsonValue v when v.TryGetValue<string>(out var s) => s, var n => n.ToJsonString() },
    };

    /// <summary><see cref="Value(JsonObject, FieldDefinition)"/> of each of <paramref name="fields"/>, read from an entity's
    /// JSON text without building its tree (a declarative load stores 100,000 rows it holds as text): one pass over
    /// the top-level members, the others skipped.</summary>
    public static void Values(ReadOnlySpan<byte> entity, IReadOnlyList<FieldDefinition> fields, string?[] values)
    {
        Array.Clear(values);
        var reader = new Utf8JsonReader(entity);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new ArgumentException("an entity is a JSON object", nameof(entity));
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var i = 0;
            while (i < fields.Count && !reader.ValueTextEquals(fields[i].Name)) i++;
            reader.Read();
            if (i == fields.Count) reader.Skip();
            else values[i] = fields[i].Type == FieldType.Foreign ? ForeignId(ref reader) : Text(ref reader, entity);
        }
    }

    /// <summary>As <see cref="EntityJson.ForeignId"/>: the "D" form of a <c>{"id": "…"}</c> object's id, or null.</summary>
    private static string? ForeignId(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); return null; }
        string? id = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isId = reader.ValueTextEquals("id"u8);
            reader.Read();
            if (isId && reader.TokenType == JsonTokenType.String && Guid.TryParse(reader.GetString(), out var g)) id = g.ToString("D");
            else if (isId) id = null;
            else reader.Skip();
        }
        return id;
    }

    /// <summary>A string as is, null as null, anything else as its compact JSON (what a parsed tree writes).</summary>
    private static string? Text(ref Utf8JsonReader reader, ReadOnlySpan<byte> entity)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String: return reader.GetString();
            case JsonTokenType.Null: return null;
        }
        var start = (int)reader.TokenStartIndex;
        reader.Skip(); // to the end of an object or array; a number or boolean is one token
        return JsonNode.Parse(entity[start..(int)reader.BytesConsumed])!.ToJsonString();
    }
}
