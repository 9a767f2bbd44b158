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

    /// <summary>
    /// Penlight's <c>pretty.write(t, "")</c>, the one-line form Kong puts in a declarative error's message, e.g.
    /// <c>{services={[2]="uniqueness violation: ..."}}</c>: an array's entries up to its first null without an index,
    /// later ones as <c>[n]=</c> (1-based); object members as <c>key=</c> (sorted; Lua's order is unspecified).
    /// </summary>
    public static string WriteOneLine(JsonNode? value)
    {
        var sb = new StringBuilder();
        WriteOneLine(sb, value);
        return sb.ToString();
    }

    private static void WriteOneLine(StringBuilder sb, JsonNode? value)
    {
        switch (value)
        {
            case JsonObject o:
                sb.Append('{');
                var first = true;
                foreach (var (k, v) in o.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (v is null) continue; // a nil member does not exist in Lua
                    if (!first) sb.Append(',');
                    first = false;
                    sb.Append(IsIdentifier(k) ? k : "[" + QuotedString(k) + "]").Append('=');
                    WriteOneLine(sb, v);
                }
                sb.Append('}');
                break;
            case JsonArray a:
                sb.Append('{');
                var sequence = true;
                var any = false;
                for (var i = 0; i < a.Count; i++)
                {
                    if (a[i] is null) { sequence = false; continue; }
                    if (any) sb.Append(',');
                    any = true;
                    if (!sequence) sb.Append('[').Append(i + 1).Append("]=");
                    WriteOneLine(sb, a[i]);
                }
                sb.Append('}');
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                sb.Append(QuotedString(v.GetValue<string>()));
                break;
            default:
                sb.Append(value?.ToJsonString() ?? "nil");
                break;
        }
    }

    /// <summary>Penlight's <c>quote_string</c>: a long bracket for text with line breaks, else double quotes.</summary>
    private static string QuotedString(string s)
    {
        if (s.Contains('\n'))
        {
            var level = 0;
            while (s.Contains("]" + new string('=', level) + "]", StringComparison.Ordinal)) level++;
            var eq = new string('=', level);
            return $"[{eq}[{s}]{eq}]";
        }
        return "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
    }

    private static readonly HashSet<string> LuaKeywords = ["and", "break", "do", "else", "elseif", "end", "false", "for",
        "function", "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while"];

    private static bool IsIdentifier(string key) => !LuaKeywords.Contains(key) &&
        key.Length > 0 && (char.IsAsciiLetter(key[0]) || key[0] == '_') && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
