using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Admin;

/// <summary>Renders an entity schema as Kong's <c>/schemas/{entity}</c> does: an ordered list of one-key field tables.</summary>
internal static class SchemaDump
{
    public static JsonObject ToJson(EntitySchema schema)
    {
        var fields = new JsonArray([.. schema.Fields.Select(f => (JsonNode?)new JsonObject { [f.Name] = Field(f) })]);
        // checks without a Kong rendering (e.g. the filter-plugin checks of the plugins entity) are not listed
        var checks = new JsonArray([.. schema.Checks.Select(Check).Where(c => c is not null)]);
        var body = new JsonObject { ["fields"] = fields, ["entity_checks"] = checks };
        if (schema.EndpointKey is { } key) body["endpoint_key"] = key;
        if (schema.Shorthands.Count > 0)
            body["shorthand_fields"] = new JsonArray([.. schema.Shorthands.Select(s =>
                (JsonNode?)new JsonObject { [s.Name] = new JsonObject { ["type"] = TypeName(s.Type) } })]);
        return body;
    }

    private static JsonObject Field(FieldDefinition f)
    {
        var o = new JsonObject { ["type"] = TypeName(f.Type) };
        if (f.Required) o["required"] = true;
        if (f.Auto) o["auto"] = true;
        if (f.Unique) o["unique"] = true;
        if (f.Uuid) o["uuid"] = true;
        if (f.Referenceable) o["referenceable"] = true;
        // A record's empty default means "from its fields' defaults", which Kong's records do without a default
        // (its dumps never show "default":{}).
        if (f.Default is not null && !(f.Type == FieldType.Record && f.Default is JsonObject { Count: 0 })) o["default"] = f.Default.DeepClone();
        if (f.OneOf is { } oneOf) o["one_of"] = new JsonArray([.. oneOf.Select(v => (JsonNode?)v)]);
        if (f.Between is { } b) o["between"] = new JsonArray(b.Min, b.Max);
        if (f.LenMin is { } min) o["len_min"] = min;
        if (f.StartsWith is { } sw) o["starts_with"] = sw;
        if (f.Reference is { } r) { o["reference"] = r; o["on_delete"] = f.OnDelete.ToString().ToLowerInvariant(); }
        if (f.Elements is { } e) o["elements"] = Field(e);
        if (f.Keys is { } k) o["keys"] = Field(k);
        if (f.Values is { } v) o["values"] = Field(v);
        if (f.Fields.Count > 0) o["fields"] = new JsonArray([.. f.Fields.Select(x => (JsonNode?)new JsonObject { [x.Name] = Field(x) })]);
        return o;
    }

    private static JsonNode? Check(EntityCheck check) => check switch
    {
        MutuallyRequiredCheck m => new JsonObject { ["mutually_required"] = Names(m.Fields) },
        OnlyOneOfCheck o => new JsonObject { ["only_one_of"] = Names(o.Fields) },
        MutuallyExclusiveCheck m => new JsonObject { ["mutually_exclusive"] = Names(m.Fields) },
        AtLeastOneOfCheck a => new JsonObject { ["at_least_one_of"] = Names(a.Fields) },
        ConditionalCheck c => new JsonObject { ["conditional"] = new JsonObject { ["if_field"] = c.IfField, ["then_field"] = c.ThenField } },
        ConditionalAtLeastOneOfCheck c => new JsonObject
        {
            ["conditional_at_least_one_of"] = new JsonObject { ["if_field"] = c.IfField, ["then_at_least_one_of"] = Names(c.Fields) },
        },
        CustomEntityCheck c => new JsonObject { ["custom_entity_check"] = new JsonObject { ["field_sources"] = Names(c.FieldSources) } },
        _ => null,
    };

    private static JsonArray Names(IEnumerable<string> names) => new([.. names.Select(n => (JsonNode?)n)]);

    private static string TypeName(FieldType type) => type.ToString().ToLowerInvariant();
}
