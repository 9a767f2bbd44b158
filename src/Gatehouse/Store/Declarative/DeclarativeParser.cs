using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Gatehouse.Store.Declarative;

/// <summary>
/// Reads a declarative file (YAML, or JSON) into a JSON tree. YAML plain scalars are resolved with the
/// YAML 1.2 core schema (null, booleans, integers, floats); quoted scalars stay strings.
/// </summary>
public static partial class DeclarativeParser
{
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
        try
        {
            if (text.TrimStart().StartsWith('{'))
            {
                root = JsonNode.Parse(text);
                return true;
            }
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            root = stream.Documents.Count == 0 ? null : Convert(stream.Documents[0].RootNode);
            return true;
        }
        catch (JsonException e) { error = "failed parsing JSON: " + e.Message; }
        catch (YamlException e) { error = $"failed parsing YAML: {e.Message} (line {e.Start.Line}, column {e.Start.Column})"; }
        return false;
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => ConvertMap(map),
        YamlSequenceNode seq => new JsonArray([.. seq.Children.Select(Convert)]),
        YamlScalarNode scalar => ConvertScalar(scalar),
        _ => throw new YamlException($"unsupported YAML node {node.NodeType}"),
    };

    private static JsonObject ConvertMap(YamlMappingNode map)
    {
        var obj = new JsonObject();
        foreach (var (key, value) in map.Children)
        {
            var name = key is YamlScalarNode s ? s.Value ?? "" : throw new YamlException(key.Start, key.End, "mapping keys must be scalars");
            obj[name] = Convert(value);
        }
        return obj;
    }

    private static JsonNode? ConvertScalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        var tag = scalar.Tag.IsEmpty ? null : scalar.Tag.Value;
        if (tag is "tag:yaml.org,2002:str" || scalar.Style is not (ScalarStyle.Plain or ScalarStyle.Any)) return JsonValue.Create(value);
        if (value is "" or "~" or "null" or "Null" or "NULL") return null;
        if (value is "true" or "True" or "TRUE") return JsonValue.Create(true);
        if (value is "false" or "False" or "FALSE") return JsonValue.Create(false);
        if (IntPattern().IsMatch(value) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
            return JsonValue.Create(l);
        if (FloatPattern().IsMatch(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
            return JsonValue.Create(d);
        return JsonValue.Create(value);
    }

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();
}
