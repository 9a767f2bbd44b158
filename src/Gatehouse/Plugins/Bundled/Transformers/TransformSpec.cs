using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Plugins.Bundled.Transformers.Templates;

namespace Gatehouse.Plugins.Bundled.Transformers;

/// <summary>The shared config shape of request-/response-transformer: remove, rename, replace, add and append
/// records whose lists hold "name" or "name:value" entries.</summary>
internal sealed record TransformSpec(
    IReadOnlyList<string> Remove, IReadOnlyList<(string From, string To)> Rename,
    IReadOnlyList<(string Name, string Value)> Replace, IReadOnlyList<(string Name, string Value)> Add,
    IReadOnlyList<(string Name, string Value)> Append)
{
    public static readonly string[] Actions = ["remove", "rename", "replace", "add", "append"];

    /// <summary>The config record of one action with the given lists (e.g. headers, querystring, body/json). With
    /// <paramref name="templates"/> (request-transformer) every value must be a template Gatehouse can render
    /// (Kong: <c>value '…' is not in supported format, error:…</c>); <paramref name="extra"/> adds fields such as
    /// <c>replace.uri</c>.</summary>
    public static FieldDefinition ActionField(string action, bool templates, string[] lists, params FieldDefinition[] extra) =>
        new(action, FieldType.Record)
        {
            Required = true,
            Default = new JsonObject(),
            Fields = [.. lists.Select(l => PluginFields.Strings(l) with
            {
                Required = true,
                Default = new JsonArray(),
                Elements = new FieldDefinition(l, FieldType.String)
                {
                    Custom = v => Check(action, templates, v.GetValue<string>()),
                },
            }), .. extra],
        };

    private static string? Check(string action, bool templates, string entry)
    {
        if (action == "remove") return null;
        if (!entry.Contains(':', StringComparison.Ordinal)) return "invalid value: " + entry;
        return templates ? TemplateError(Pair(entry).Value) : null;
    }

    /// <summary>Null when <paramref name="value"/> is a template Gatehouse can render, else Kong's message.</summary>
    public static string? TemplateError(string value)
    {
        try
        {
            ValueTemplate.Parse(value);
            return null;
        }
        catch (FormatException e)
        {
            return $"value '{value}' is not in supported format, error:{e.Message}";
        }
    }

    public static TransformSpec Read(JsonObject config, string list)
    {
        IReadOnlyList<string> Of(string action) => config[action] is JsonObject r ? EntityJson.Strings(r, list) : [];
        return new(Of("remove"), [.. Of("rename").Select(Pair)], [.. Of("replace").Select(Pair)], [.. Of("add").Select(Pair)], [.. Of("append").Select(Pair)]);
    }

    private static (string Name, string Value) Pair(string entry)
    {
        var colon = entry.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? (entry, "") : (entry[..colon].Trim(), entry[(colon + 1)..].Trim());
    }

    public bool IsEmpty => Remove.Count + Rename.Count + Replace.Count + Add.Count + Append.Count == 0;

    /// <summary>The values of rename, replace, add and append (the parts Kong renders as templates).</summary>
    public IEnumerable<string> Values =>
        Rename.Select(r => r.To).Concat(Replace.Select(p => p.Value)).Concat(Add.Select(p => p.Value)).Concat(Append.Select(p => p.Value));

    /// <summary>This spec with every value passed through <paramref name="render"/>.</summary>
    public TransformSpec Render(Func<string, string> render) => new(Remove,
        [.. Rename.Select(r => (r.From, render(r.To)))], [.. Replace.Select(p => (p.Name, render(p.Value)))],
        [.. Add.Select(p => (p.Name, render(p.Value)))], [.. Append.Select(p => (p.Name, render(p.Value)))]);
}
