using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Gatehouse.Wasm;

/// <summary>
/// Validates a filter entry's <c>config</c> (Kong §1.3): the filter's metadata <c>config_schema</c>, or the
/// default <c>{"type":["string","null"]}</c>. Draft-4 documents are evaluated as draft 7 (JsonSchema.Net has no
/// draft 4; see docs/kong-wasm-differences.md). Messages follow lua-resty-ljsonschema's wording where we know it.
/// </summary>
public sealed class FilterConfigSchema
{
    public const string Draft4 = "http://json-schema.org/draft-04/schema#";
    private const string Draft7 = "http://json-schema.org/draft-07/schema#";

    private readonly JsonSchema? _schema;

    private FilterConfigSchema(JsonSchema? schema) => _schema = schema;

    /// <summary>Strings and null only.</summary>
    public static FilterConfigSchema Default { get; } = new(null);

    public static JsonObject DefaultJson() => new() { ["$schema"] = Draft4, ["type"] = new JsonArray("string", "null") };

    public static FilterConfigSchema From(JsonObject schemaJson)
    {
        ArgumentNullException.ThrowIfNull(schemaJson);
        var copy = (JsonObject)schemaJson.DeepClone();
        copy["$schema"] = Draft7;
        copy.Remove("id");
        var options = new BuildOptions { SchemaRegistry = new SchemaRegistry() };
        return new FilterConfigSchema(JsonSchema.FromText(copy.ToJsonString(), options));
    }

    /// <summary>Null when <paramref name="config"/> (null included, as Kong validates null) passes.</summary>
    public string? Validate(JsonNode? config)
    {
        if (_schema is null)
            return config is null || (config is JsonValue v && v.GetValueKind() == JsonValueKind.String) ? null
                : $"wrong type: expected one of string, null, got {TypeName(config)}";
        using var doc = JsonDocument.Parse(config?.ToJsonString() ?? "null");
        var result = _schema.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (result.IsValid) return null;
        return Describe(result, config);
    }

    private static string Describe(EvaluationResults result, JsonNode? config)
    {
        foreach (var detail in result.Details ?? [])
        {
            if (detail.IsValid || detail.Errors is not { Count: > 0 } errors) continue;
            var (keyword, message) = errors.First();
            var location = detail.InstanceLocation.ToString().TrimStart('/');
            var text = keyword switch
            {
                "required" => "property " + FirstQuoted(message) + " is required",
                "type" => $"wrong type: expected {ExpectedType(message)}, got {TypeName(At(config, location))}",
                _ => message,
            };
            if (location.Length == 0) return text;
            var first = location.Split('/')[0];
            return $"property {first} validation failed: {text}";
        }
        return "validation failed";
    }

    private static JsonNode? At(JsonNode? root, string pointer)
    {
        var node = root;
        if (pointer.Length == 0) return node;
        foreach (var part in pointer.Split('/'))
            node = node switch { JsonObject o => o[part], JsonArray a when int.TryParse(part, out var i) && i < a.Count => a[i], _ => null };
        return node;
    }

    private static string FirstQuoted(string message)
    {
        var start = message.IndexOf('"');
        var end = start >= 0 ? message.IndexOf('"', start + 1) : -1;
        return end > start ? message[(start + 1)..end] : message;
    }

    private static string ExpectedType(string message)
    {
        var idx = message.LastIndexOf("should be", StringComparison.OrdinalIgnoreCase);
        var tail = idx >= 0 ? message[(idx + 9)..] : message;
        return tail.Trim().Trim('.', '"', '\'', ' ').Replace("\"", "", StringComparison.Ordinal);
    }

    internal static string TypeName(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "object",
        JsonArray => "array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.True or JsonValueKind.False => "boolean",
            JsonValueKind.Number => "number",
            _ => "null",
        },
        _ => "null",
    };
}
