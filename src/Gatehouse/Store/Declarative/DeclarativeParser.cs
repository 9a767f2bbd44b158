using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;

namespace Gatehouse.Store.Declarative;

/// <summary>
/// Reads a declarative file (YAML, or JSON) into a JSON tree: the one parser behind <c>POST /config</c>,
/// <c>config parse</c> and <c>declarative_config</c> at start. YAML plain scalars are resolved with the
/// YAML 1.2 core schema (null, booleans, integers, floats); quoted scalars stay strings. Alias expansion and
/// nesting are bounded (see <see cref="BoundedYamlReader"/>).
/// </summary>
public static class DeclarativeParser
{
    /// <summary>Deepest nesting of mappings/sequences (objects/arrays) accepted, YAML or JSON.</summary>
    public const int MaxDepth = 64;

    /// <summary>YAML aliases (and merge keys) may copy at most max(this, input characters / 4) nodes ...</summary>
    public const int MinAliasNodeBudget = 100_000;

    /// <summary>... and at most max(this, input characters) scalar characters; past either the file is refused.</summary>
    public const int MinAliasCharBudget = 1 << 20;

    /// <summary>JSON's first member name is quoted; a YAML flow mapping's usually is not.</summary>
    private static bool LooksLikeJson(string text)
    {
        var rest = text.AsSpan().TrimStart()[1..].TrimStart();
        return rest.IsEmpty || rest[0] is '"' or '}';
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Decodes strictly: invalid UTF-8 is an error, never replaced.</summary>
    public static bool TryParse(ReadOnlySpan<byte> bytes, out JsonNode? root, out string? error)
    {
        string text;
        try { text = StrictUtf8.GetString(bytes); }
        catch (DecoderFallbackException e) { root = null; error = $"invalid utf-8 character sequence detected at byte {e.Index}"; return false; }
        return TryParse(text, out root, out error);
    }

    /// <summary>
    /// JSON to a tree. Not <see cref="JsonNode.Parse(string, JsonNodeOptions?, JsonDocumentOptions)"/>: its objects
    /// throw on a repeated member when first read, and its strings when one escapes a lone surrogate. A repeated
    /// member keeps its last value, as in Kong (cjson fills a Lua table) and in our YAML reader; a lone surrogate
    /// (<c>"\ud800"</c>) has no UTF-8 form, so it is a syntax error, as cjson and the Admin body reader say.
    /// </summary>
    private static JsonNode? ParseJson(string text)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text), new JsonReaderOptions { MaxDepth = MaxDepth });
        var document = JsonElement.ParseValue(ref reader); // its own memory: numbers below stay backed by it
        if (reader.Read()) throw new JsonException($"more data after the JSON value (byte {reader.TokenStartIndex})"); // Read throws first, but be sure
        return ToNode(document);
    }

    /// <summary>A value's tree: objects, arrays, strings and literals made anew, numbers kept as written (backed by the
    /// value's document).</summary>
    internal static JsonNode? ToNode(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var obj = new JsonObject();
                foreach (var member in element.EnumerateObject()) obj[Text(member.Value, member)] = ToNode(member.Value);
                return obj;
            case JsonValueKind.Array:
                var array = new JsonArray();
                foreach (var item in element.EnumerateArray()) array.Add(ToNode(item));
                return array;
            case JsonValueKind.String: return JsonValue.Create(Text(element, null));
            case JsonValueKind.True: return JsonValue.Create(true);
            case JsonValueKind.False: return JsonValue.Create(false);
            case JsonValueKind.Null: return null;
            default: return JsonValue.Create(element); // a number, kept as written
        }
    }

    /// <summary>A string value, or the member's name when given; System.Text.Json throws InvalidOperationException
    /// (only) when the text escapes invalid UTF-16.</summary>
    private static string Text(JsonElement value, JsonProperty? member)
    {
        try
        {
            return member is { } m ? m.Name : value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new JsonException("a string escapes a lone surrogate (\\ud800-\\udfff without its pair), which has no UTF-8 form");
        }
    }

    public static bool TryParse(string text, out JsonNode? root, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        root = null;
        error = null;
        text = text.TrimStart('\uFEFF');
        if (text.AsSpan().TrimStart().StartsWith('{'))
        {
            try
            {
                root = ParseJson(text);
                return true;
            }
            catch (JsonException) when (!LooksLikeJson(text))
            {
                // Not JSON: a YAML flow mapping (`{a: 1}`) is read as YAML below, with the same bounds.
            }
            catch (JsonException e)
            {
                error = "failed parsing JSON: " + e.Message;
                return false;
            }
        }
        try
        {
            root = BoundedYamlReader.Read(text);
            return true;
        }
        catch (YamlException e) { error = $"failed parsing YAML: {e.Message} (line {e.Start.Line}, column {e.Start.Column})"; }
        return false;
    }
}
