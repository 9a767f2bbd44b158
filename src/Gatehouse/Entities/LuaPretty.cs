using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Entities;

/// <summary>
/// Approximates Penlight's <c>pretty.write</c>, which Kong embeds in error messages. Clients compare
/// <c>fields</c>, not messages, so this is best effort: tables indented by two spaces, strings quoted.
/// </summary>
public static class LuaPretty
{
    /// <summary>Single-line form used in unique/foreign key messages, e.g. <c>{name="x"}</c> or <c>"x"</c>.</summary>
    public static string Inline(JsonNode? value) => value switch
    {
        null => "null",
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={Inline(p.Value)}")) + "}",
        JsonArray a => "{" + string.Join(",", a.Select(Inline)) + "}",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => "\"" + v.GetValue<string>() + "\"",
        _ => value.ToJsonString(),
    };

    public static string Write(JsonNode? value)
    {
        var sb = new StringBuilder();
        Write(sb, value, 0);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JsonNode? value, int depth)
    {
        var pad = new string(' ', (depth + 1) * 2);
        switch (value)
        {
            case JsonObject o:
                sb.Append("{\n");
                var first = true;
                foreach (var (k, v) in o.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first) sb.Append(",\n");
                    first = false;
                    sb.Append(pad).Append(IsIdentifier(k) ? k : $"[\"{k}\"]").Append(" = ");
                    Write(sb, v, depth + 1);
                }
                sb.Append('\n').Append(' ', depth * 2).Append('}');
                break;
            case JsonArray a:
                sb.Append("{\n");
                for (var i = 0; i < a.Count; i++)
                {
                    if (i > 0) sb.Append(",\n");
                    sb.Append(pad);
                    Write(sb, a[i], depth + 1);
                }
                sb.Append('\n').Append(' ', depth * 2).Append('}');
                break;
            default:
                sb.Append(Inline(value));
                break;
        }
    }

    private static bool IsIdentifier(string key) =>
        key.Length > 0 && (char.IsAsciiLetter(key[0]) || key[0] == '_') && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
