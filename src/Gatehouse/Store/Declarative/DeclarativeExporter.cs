using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using YamlDotNet.Serialization;

namespace Gatehouse.Store.Declarative;

/// <summary>
/// Writes the current configuration as a declarative YAML file (what <c>GET /config</c> returns): every
/// entity at top level, foreign keys as plain ids, null fields omitted. Stored values are already transformed
/// (basic-auth passwords hashed), so the file says <c>_transform: false</c>, as Kong's export does: it loads back
/// unchanged.
/// </summary>
public static class DeclarativeExporter
{
    public static string ToYaml(EntityRegistry registry, IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> rows)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(rows);
        var doc = new Dictionary<string, object?> { ["_format_version"] = "3.0", ["_transform"] = false };
        foreach (var schema in registry.Schemas)
        {
            if (!rows.TryGetValue(schema, out var list) || list.Count == 0) continue;
            doc[schema.Name] = list.Select(e => Entity(schema, e)).ToList();
        }
        var serializer = new SerializerBuilder().WithQuotingNecessaryStrings().Build();
        return serializer.Serialize(doc);
    }

    private static Dictionary<string, object?> Entity(EntitySchema schema, JsonObject entity)
    {
        var result = new Dictionary<string, object?>();
        foreach (var field in schema.Fields)
        {
            if (entity[field.Name] is not { } value) continue;
            result[field.Name] = field.Type == FieldType.Foreign ? EntityJson.ForeignId(entity, field.Name)?.ToString() : Plain(value);
        }
        return result;
    }

    private static object? Plain(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToDictionary(p => p.Key, p => Plain(p.Value)),
        JsonArray a => a.Select(Plain).ToList(),
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => EntityJson.TryNumber(v, out var d) && d == Math.Floor(d) && Math.Abs(d) < 9e15 ? (long)d : (object)d,
            _ => null,
        },
        _ => null,
    };
}
