using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Entities;

/// <summary>Typed reads from a validated entity, used by the model conversions and the store.</summary>
public static class EntityJson
{
    public static string? String(JsonObject e, string field) =>
        e[field] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    public static long? Long(JsonObject e, string field) =>
        e[field] is JsonValue v && TryNumber(v, out var d) ? (long)d : null;

    /// <summary>Reads any JSON number, whether parsed or created from a CLR value.</summary>
    public static bool TryNumber(JsonNode? node, out double value)
    {
        value = 0;
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number) return false;
        if (v.TryGetValue(out double d)) { value = d; return true; }
        if (v.TryGetValue(out long l)) { value = l; return true; }
        if (v.TryGetValue(out int i)) { value = i; return true; }
        if (v.TryGetValue(out JsonElement el) && el.TryGetDouble(out d)) { value = d; return true; }
        value = double.Parse(v.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);
        return true;
    }

    public static bool? Bool(JsonObject e, string field) =>
        e[field] is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? v.GetValue<bool>() : null;

    public static Guid Guid(JsonObject e, string field) => System.Guid.Parse(String(e, field) ?? throw new InvalidOperationException($"{field} missing"));

    public static IReadOnlyList<string> Strings(JsonObject e, string field) => StringsOf(e[field] as JsonArray);

    /// <summary>The strings of <paramref name="array"/> (a null element as ""), exactly sized (an empty one shared); an
    /// element equal to one of <paramref name="known"/> is that string instance, not a copy.</summary>
    public static IReadOnlyList<string> StringsOf(JsonArray? array, IReadOnlyList<string>? known = null)
    {
        if (array is not { Count: > 0 }) return [];
        var strings = new string[array.Count];
        for (var i = 0; i < strings.Length; i++)
        {
            var value = array[i]?.GetValue<string>() ?? "";
            strings[i] = known is null ? value : Shared(known, value);
        }
        return strings;
    }

    private static string Shared(IReadOnlyList<string> known, string value)
    {
        foreach (var k in known)
            if (k == value) return k;
        return value;
    }

    /// <summary>The entity as the Admin API returns it: every field of <paramref name="schema"/> in its order, an
    /// absent one as null, as UTF-8 JSON. Written from the schema's field list, so a new field cannot be left out.</summary>
    public static byte[] Document(EntitySchema schema, JsonObject e)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(e);
        using var buffer = new PooledBufferWriter(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            foreach (var field in schema.Fields)
            {
                w.WritePropertyName(field.Name);
                if (e[field.Name] is { } value) value.WriteTo(w);
                else w.WriteNullValue();
            }
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The id inside a foreign field (<c>{"id": "..."}</c>), or null.</summary>
    public static Guid? ForeignId(JsonObject e, string field) =>
        e[field] is JsonObject f && f["id"] is JsonValue v && v.TryGetValue<string>(out var s) && System.Guid.TryParse(s, out var g) ? g : null;
}
