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
                root = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = MaxDepth });
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
