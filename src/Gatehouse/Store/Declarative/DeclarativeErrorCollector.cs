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

    /// <summary>Where the errors of one input item go: <c>key[index]</c> of its parent's error object (the top
    /// level's, or the parent entity's for a nested one), created on demand.</summary>
    public sealed class Slot(Func<JsonObject> container, string key, int index)
    {
        /// <summary>The item's error object (a duplicate's message already there becomes its <c>@entity</c>).</summary>
        public JsonObject Locate() => Item(Array(container(), key, index), index);

        /// <summary>Puts <paramref name="value"/> in the item's place.</summary>
        public void Replace(JsonNode value) => Array(container(), key, index)[index] = value;
    }

    public Slot TopLevel(string key, int index) => new(() => _fields, key, index);

    public static Slot Nested(Slot parent, string key, int index) => new(parent.Locate, key, index);

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
        AddFlattened(schema, input, errors);
    }

    /// <summary>A valid entity that repeats an earlier one: as Kong lists it, the message alone in the entity's
    /// place (the entry of <c>fields.services</c> is the string), and an entity error in <c>flattened_errors</c>.</summary>
    public void AddDuplicate(Slot slot, EntitySchema schema, JsonObject input, string message)
    {
        slot.Replace(message);
        AddFlattened(schema, input, new JsonObject { ["@entity"] = new JsonArray(message) });
    }

    /// <summary>The error of a file that is not a declarative configuration (syntax, not an object): Kong's
    /// <c>{error = "..."}</c>, with no <c>flattened_errors</c>.</summary>
    public static DbError Unparsable(string error)
    {
        var fields = new JsonObject { ["error"] = error };
        return new DbError(DbErrorCode.DeclarativeConfig, Message(fields), fields);
    }

    private static string Message(JsonObject fields) => "declarative config is invalid: " + LuaPretty.WriteOneLine(fields);

    private void AddFlattened(EntitySchema schema, JsonObject input, JsonObject errors)
    {
        var item = new JsonObject { ["entity_type"] = schema.SingularName };
        if (input["name"] is JsonValue n && n.TryGetValue<string>(out var name)) item["entity_name"] = name;
        if (input["id"] is JsonValue i && i.TryGetValue<string>(out var id)) item["entity_id"] = id;
        if (input["tags"] is JsonArray tags) item["entity_tags"] = tags.DeepClone();
        item["entity"] = input.DeepClone();
        var list = new JsonArray();
        Flatten(errors, "", list);
        item["errors"] = list;
        _flattened.Add((JsonNode)item);
    }

    public DbError ToError()
    {
        return new DbError(DbErrorCode.DeclarativeConfig, Message(_fields), _fields.DeepClone())
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
                        foreach (var m in msgs) into.Add((JsonNode)new JsonObject { ["type"] = "entity", ["message"] = m?.ToString() });
                    else Flatten(v, path.Length == 0 ? k : path + "." + k, into);
                }
                break;
            case JsonArray arr:
                for (var i = 0; i < arr.Count; i++) Flatten(arr[i], $"{path}.{i + 1}", into);
                break;
            case JsonValue v:
                into.Add((JsonNode)new JsonObject { ["type"] = "field", ["field"] = path, ["message"] = v.ToString() });
                break;
        }
    }

    private static JsonArray Array(JsonObject container, string key, int index)
    {
        if (container[key] is not JsonArray array) container[key] = array = [];
        while (array.Count <= index) array.Add(null);
        return array;
    }

    private static JsonObject Item(JsonArray array, int index)
    {
        if (array[index] is JsonObject obj) return obj;
        obj = new JsonObject();
        if (array[index] is JsonValue message) obj["@entity"] = new JsonArray(message.DeepClone());
        array[index] = obj;
        return obj;
    }
}
