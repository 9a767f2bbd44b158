using System.Text.Json.Nodes;

namespace Gatehouse.Plugins.Bundled.Transformers;

/// <summary>Applies a <see cref="TransformSpec"/> to the top level of a JSON object body, in Kong's order
/// (remove, rename, replace, add, append). Values are strings, as with Kong's default <c>json_types</c>.</summary>
internal static class JsonTransform
{
    public static void Apply(TransformSpec spec, JsonObject body)
    {
        foreach (var name in spec.Remove) body.Remove(name);
        foreach (var (from, to) in spec.Rename)
            if (body.Remove(from, out var v)) body[to] = v;
        foreach (var (name, value) in spec.Replace)
            if (body.ContainsKey(name)) body[name] = value;
        foreach (var (name, value) in spec.Add)
            if (!body.ContainsKey(name)) body[name] = value;
        foreach (var (name, value) in spec.Append)
            body[name] = body[name] switch
            {
                null => new JsonArray(value),
                JsonArray a => Append(a, value),
                var single => new JsonArray(single.DeepClone(), value),
            };
    }

    private static JsonArray Append(JsonArray array, string value)
    {
        array.Add((JsonNode)value);
        return (JsonArray)array.DeepClone();
    }
}
