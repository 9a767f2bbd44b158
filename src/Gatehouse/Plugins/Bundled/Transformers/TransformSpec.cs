using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Plugins.Bundled.Transformers;

/// <summary>The shared config shape of request-/response-transformer: remove, rename, replace, add and append
/// records whose lists hold "name" or "name:value" entries.</summary>
internal sealed record TransformSpec(
    IReadOnlyList<string> Remove, IReadOnlyList<(string From, string To)> Rename,
    IReadOnlyList<(string Name, string Value)> Replace, IReadOnlyList<(string Name, string Value)> Add,
    IReadOnlyList<(string Name, string Value)> Append)
{
    public static readonly string[] Actions = ["remove", "rename", "replace", "add", "append"];

    /// <summary>The config record of one action with the given lists (e.g. headers, querystring, body/json).</summary>
    public static FieldDefinition ActionField(string action, params string[] lists) => new(action, FieldType.Record)
    {
        Required = true,
        Default = new JsonObject(),
        Fields = [.. lists.Select(l => PluginFields.Strings(l) with
        {
            Required = true,
            Default = new JsonArray(),
            Elements = new FieldDefinition(l, FieldType.String)
            {
                Custom = v => action == "remove" || v.GetValue<string>().Contains(':', StringComparison.Ordinal) ? null : "invalid value: " + v.GetValue<string>(),
            },
        })],
    };

    public static TransformSpec Read(JsonObject config, string list)
    {
        IReadOnlyList<string> Of(string action) => config[action] is JsonObject r ? EntityJson.Strings(r, list) : [];
        static (string, string) Pair(string entry)
        {
            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? (entry, "") : (entry[..colon].Trim(), entry[(colon + 1)..].Trim());
        }
        return new(Of("remove"), [.. Of("rename").Select(Pair)], [.. Of("replace").Select(Pair)], [.. Of("add").Select(Pair)], [.. Of("append").Select(Pair)]);
    }

    public bool IsEmpty => Remove.Count + Rename.Count + Replace.Count + Add.Count + Append.Count == 0;
}
