using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Wasm;

/// <summary>Kong's <c>FILTER_META_SCHEMA</c> (§1.2): <c>config_schema</c> must be a usable JSON schema and
/// <c>metrics.label_patterns</c> an array of <c>{label, pattern}</c> string records; plus Gatehouse's extensions
/// <c>root_id</c> and <c>vm_id</c> (strings) and <c>property_encoding</c> (<see cref="FilterPropertyEncoding"/>).</summary>
internal static class FilterMetadataCheck
{
    private static readonly HashSet<string> Types = ["array", "boolean", "integer", "null", "number", "object", "string"];

    /// <summary>Null when valid, else a short reason.</summary>
    public static string? Check(JsonObject meta)
    {
        foreach (var key in new[] { "root_id", "vm_id" })
            if (meta[key] is { } id && !IsString(id)) return $"property {key} validation failed: wrong type: expected string";
        if (meta[FilterPropertyEncoding.Key] is { } encoding && !FilterPropertyEncoding.TryParse(encoding, out _))
            return $"property {FilterPropertyEncoding.Key} validation failed: expected one of: {FilterPropertyEncoding.Envoy}, {FilterPropertyEncoding.Ngx}";
        if (meta["config_schema"] is { } schema)
        {
            if (schema is not JsonObject obj) return "property config_schema validation failed: wrong type: expected object";
            if (CheckSchema(obj) is { } e) return "property config_schema validation failed: " + e;
            try { FilterConfigSchema.From((JsonObject)obj.DeepClone()); }
            catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException or FormatException)
            { return "property config_schema validation failed: " + ex.Message; }
        }
        if (meta["metrics"] is { } metrics)
        {
            if (metrics is not JsonObject m) return "property metrics validation failed: wrong type: expected object";
            if (m["label_patterns"] is { } lp)
            {
                if (lp is not JsonArray items) return "property metrics validation failed: property label_patterns validation failed: wrong type: expected array";
                foreach (var item in items)
                {
                    if (item is not JsonObject o || !IsString(o["label"]) || !IsString(o["pattern"]))
                        return "property metrics validation failed: property label_patterns validation failed: failed to validate item: wrong type: expected object with string label and pattern";
                    // compiled as the metrics exporter compiles it: a pattern that passed here and failed there broke
                    // every /metrics scrape
                    var pattern = o["pattern"]!.GetValue<string>();
                    if (!LabelPattern.TryCreate(pattern, out _, out var error))
                        return $"property metrics validation failed: property label_patterns validation failed: invalid pattern '{pattern}': {error}";
                }
            }
        }
        return null;
    }

    /// <summary>The draft-4 metaschema rules that matter in practice: <c>type</c> names, nested schemas are objects.</summary>
    private static string? CheckSchema(JsonObject schema)
    {
        if (schema["type"] is { } type)
        {
            var names = type is JsonArray a ? a.ToList() : [type];
            foreach (var n in names)
                if (!IsString(n) || !Types.Contains(n!.GetValue<string>())) return "property type validation failed: matches none of the required";
        }
        foreach (var key in new[] { "properties", "patternProperties", "definitions" })
            if (schema[key] is { } props)
            {
                if (props is not JsonObject po) return $"property {key} validation failed: wrong type: expected object";
                foreach (var (_, sub) in po)
                    if (sub is not JsonObject so || CheckSchema(so) is { } e) return $"property {key} validation failed";
            }
        foreach (var key in new[] { "items", "additionalProperties", "not" })
            if (schema[key] is JsonObject sub && CheckSchema(sub) is { } e) return $"property {key} validation failed: {e}";
        return null;
    }

    private static bool IsString(JsonNode? n) => n is JsonValue v && v.GetValueKind() == JsonValueKind.String;
}
