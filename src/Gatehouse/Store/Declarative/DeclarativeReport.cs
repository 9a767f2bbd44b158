using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Store.Declarative;

/// <summary>Renders a declarative error for humans (CLI and startup failures): one line per flattened error, then
/// one per top-level error (<c>_format_version: required field missing</c>), or the parse failure's reason.</summary>
public static class DeclarativeReport
{
    public static string Describe(DbError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (error.Fields?["error"] is JsonValue unparsable && unparsable.TryGetValue<string>(out var reason)) return reason;
        var sb = new StringBuilder();
        foreach (var item in (error.Extra?["flattened_errors"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var who = $"{item["entity_type"]}" + (item["entity_name"] is { } n ? $" '{n}'" : "") + (item["entity_id"] is { } id ? $" ({id})" : "");
            foreach (var e in (item["errors"] as JsonArray ?? []).OfType<JsonObject>())
                sb.AppendLine(e["field"] is { } f ? $"in {who}: {f}: {e["message"]}" : $"in {who}: {e["message"]}");
        }
        if (error.Fields is JsonObject top)
            foreach (var (k, v) in top.Where(p => p.Value is JsonValue))
                sb.AppendLine($"{k}: {v}");
        return sb.Length == 0 ? error.Message : sb.ToString().TrimEnd();
    }
}
