using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Admin;

/// <summary>
/// Converts the strings of a form body to the types the schema expects (Kong's <c>infer</c>): numbers,
/// booleans, single values into arrays, <c>service.id</c> into a foreign key, nested records and maps (a plugin's
/// <c>config.minute=5</c> by that plugin's config schema). Values that do not convert are left as they are, so
/// validation reports the usual type error; <c>json</c> fields (a filter's <c>config</c>) stay strings, as in Kong.
/// </summary>
internal static class FormValueInference
{
    public static JsonObject Infer(EntitySchema schema, JsonObject input)
    {
        var result = new JsonObject();
        foreach (var (key, value) in input)
        {
            var field = schema.Field(key);
            // Kong's schema:each_field(args): a field chosen by the input (a plugin's config by its name) is
            // inferred with the chosen definition.
            if (field?.ResolveFrom is { } resolve) field = resolve(input) ?? field;
            result[key] = field is null ? value?.DeepClone() : Infer(field, value);
        }
        return result;
    }

    private static JsonNode? Infer(FieldDefinition field, JsonNode? value)
    {
        if (value is null) return null;
        var text = value is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        if (text is { Length: 0 }) return null; // Kong's infer_value: an empty form value is null, whatever the type
        switch (field.Type)
        {
            case FieldType.Integer or FieldType.Number:
                if (text is null) return value.DeepClone();
                if (text.Length == 0) return null;
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
                    ? (d == Math.Floor(d) && Math.Abs(d) < 9e15 ? JsonValue.Create((long)d) : JsonValue.Create(d))
                    : value.DeepClone();
            case FieldType.Boolean:
                return text switch { "true" => true, "false" => false, "" => null, _ => value.DeepClone() };
            case FieldType.Array or FieldType.Set:
                if (text is not null) return text.Length == 0 ? new JsonArray() : new JsonArray(Element(field, value));
                if (value is JsonArray a) return new JsonArray([.. a.Select(x => Element(field, x))]);
                if (value is JsonObject o) return new JsonArray([.. o.Select(p => Element(field, p.Value))]);
                return value.DeepClone();
            case FieldType.Map:
                if (value is not JsonObject map) return value.DeepClone();
                return new JsonObject(map.Select(p => KeyValuePair.Create(p.Key, field.Values is null ? p.Value?.DeepClone() : Infer(field.Values, p.Value))));
            case FieldType.Record:
                if (value is not JsonObject rec) return text == "" ? null : value.DeepClone();
                return new JsonObject(rec.Select(p => KeyValuePair.Create(p.Key,
                    field.Fields.FirstOrDefault(f => f.Name == p.Key) is { } sub ? Infer(sub, p.Value) : p.Value?.DeepClone())));
            case FieldType.Foreign:
                // Kong infers a foreign table with the referenced schema: service.id= is {id = null}.
                if (value is JsonObject key)
                    return new JsonObject(key.Select(p => KeyValuePair.Create(p.Key, p.Value is JsonValue pv && pv.GetValueKind() == JsonValueKind.String
                        && pv.GetValue<string>().Length == 0 ? null : p.Value?.DeepClone())));
                return text switch { "" => null, not null => new JsonObject { ["id"] = text }, _ => value.DeepClone() };
            default:
                return value.DeepClone();
        }
    }

    private static JsonNode? Element(FieldDefinition field, JsonNode? value) =>
        field.Elements is null ? value?.DeepClone() : Infer(field.Elements, value);
}
