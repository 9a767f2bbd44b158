using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Store.Declarative;

/// <summary>
/// Accumulates declarative errors twice: nested, mirroring the input (Kong's <c>fields</c>), and flattened
/// per entity (Kong's <c>flattened_errors</c>, as returned with <c>?flatten_errors=1</c>).
/// </summary>
internal sealed class DeclarativeErrorCollector
{
    private readonly JsonObject _fields = new();
    private readonly JsonArray _flattened = new();

    public bool HasErrors => _fields.Count > 0;

    /// <summary>Locates (creating on demand) the error object of one input item.</summary>
    public sealed record Slot(Func<JsonObject> Locate);

    public Slot TopLevel(string key, int index) => new(() => Item(_fields, key, index));

    public static Slot Nested(Slot parent, string key, int index) => new(() => Item(parent.Locate(), key, index));

    public void AddTopLevel(string key, string message) => _fields[key] = message;

    /// <summary>Records an entity's errors (an error tree as the validator produces it).</summary>
    public void AddEntityErrors(Slot slot, EntitySchema schema, JsonObject input, JsonObject errors)
    {
        var target = slot.Locate();
        foreach (var (k, v) in errors)
        {
            if (k == "@entity" && target["@entity"] is JsonArray existing && v is JsonArray more)
                foreach (var m in more) existing.Add(m?.DeepClone());
            else target[k] = v?.DeepClone();
        }
        var item = new JsonObject { ["entity_type"] = schema.SingularName };
        if (input["name"] is JsonValue n && n.TryGetValue<string>(out var name)) item["entity_name"] = name;
        if (input["id"] is JsonValue i && i.TryGetValue<string>(out var id)) item["entity_id"] = id;
        if (input["tags"] is JsonArray tags) item["entity_tags"] = tags.DeepClone();
        item["entity"] = input.DeepClone();
        var list = new JsonArray();
        Flatten(errors, "", list);
        item["errors"] = list;
        _flattened.Add(item);
    }

    public DbError ToError()
    {
        var message = "declarative config is invalid: " + LuaPretty.Write(_fields);
        return new DbError(DbErrorCode.DeclarativeConfig, message, _fields.DeepClone())
        {
            Extra = new JsonObject { ["flattened_errors"] = _flattened.DeepClone() },
        };
    }

    private static void Flatten(JsonNode? node, string path, JsonArray into)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (k, v) in obj)
                {
                    if (k == "@entity" && v is JsonArray msgs)
                        foreach (var m in msgs) into.Add(new JsonObject { ["type"] = "entity", ["message"] = m?.ToString() });
                    else Flatten(v, path.Length == 0 ? k : path + "." + k, into);
                }
                break;
            case JsonArray arr:
                for (var i = 0; i < arr.Count; i++) Flatten(arr[i], $"{path}.{i + 1}", into);
                break;
            case JsonValue v:
                into.Add(new JsonObject { ["type"] = "field", ["field"] = path, ["message"] = v.ToString() });
                break;
        }
    }

    private static JsonObject Item(JsonObject container, string key, int index)
    {
        if (container[key] is not JsonArray array) container[key] = array = [];
        while (array.Count <= index) array.Add(null);
        if (array[index] is not JsonObject obj) array[index] = obj = new JsonObject();
        return obj;
    }
}
