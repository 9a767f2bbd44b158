using System.Text.Json.Nodes;

namespace Gatehouse.Entities;

/// <summary>Builds Kong's human-readable violation messages from an error tree (<c>Errors:schema_violation</c>).</summary>
public static class ErrorMessages
{
    /// <summary>"@entity" messages first, then "field: message" in sorted field order; nested values pretty-printed.</summary>
    public static string SchemaViolation(JsonObject fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var items = new List<string>();
        if (fields["@entity"] is JsonArray entityErrors)
            items.AddRange(entityErrors.Select(e => e?.ToString() ?? ""));
        foreach (var (key, value) in fields.Where(p => p.Key != "@entity").OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            switch (value)
            {
                case JsonArray array:
                    for (var i = 0; i < array.Count; i++)
                        if (array[i] is { } v) items.Add($"{key}.{i + 1}: {Render(v)}");
                    break;
                case JsonObject obj:
                    foreach (var (k, v) in obj.OrderBy(p => p.Key, StringComparer.Ordinal)) items.Add($"{key}.{k}: {Render(v)}");
                    break;
                default:
                    items.Add($"{key}: {value}");
                    break;
            }
        }
        return items.Count == 1 ? $"schema violation ({items[0]})" : $"{items.Count} schema violations ({string.Join("; ", items)})";
    }

    private static string Render(JsonNode? value) =>
        value is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String ? v.GetValue<string>() : LuaPretty.Write(value);
}
