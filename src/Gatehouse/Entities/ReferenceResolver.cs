using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.Entities;

/// <summary>A reference that did not resolve: which entity and field, the reference itself and why (never a value).</summary>
public sealed record UnresolvedReference(string Entity, string? Id, string Field, string Reference, string Error);

/// <summary>
/// Replaces the vault references of an entity's referenceable fields (<see cref="FieldDefinition.Referenceable"/>,
/// in records, arrays and map values, and in a plugin's config) with their values, on a copy: the stored row keeps the
/// reference, so the Admin API and exports never show a value. A reference that does not resolve becomes the empty
/// string and is reported, as Kong's <c>process_auto_fields</c> does (it logs and uses <c>""</c>).
/// </summary>
public static class ReferenceResolver
{
    /// <summary>The row itself when it holds no reference, else a resolved copy.</summary>
    public static JsonObject Resolve(EntitySchema schema, JsonObject row, VaultResolver vaults, Action<UnresolvedReference> unresolved)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(row);
        if (!HoldsReference(row)) return row;
        var copy = (JsonObject)row.DeepClone();
        var id = EntityJson.String(copy, "id");
        foreach (var declared in schema.Fields)
        {
            var field = declared.ResolveFrom?.Invoke(copy) ?? declared;
            if (copy[field.Name] is { } value)
                Walk(field, value, field.Name, replacement => copy[field.Name] = replacement, Resolve);
        }
        return copy;

        string Resolve(string path, string reference)
        {
            if (vaults.TryResolve(reference, out var value, out var error)) return value;
            unresolved(new UnresolvedReference(schema.Name, id, path, reference, error));
            return "";
        }
    }

    private static void Walk(FieldDefinition field, JsonNode value, string path, Action<JsonNode> replace, Func<string, string, string> resolve)
    {
        switch (field.Type)
        {
            case FieldType.String when FieldValidator.IsReference(field, value):
                replace(JsonValue.Create(resolve(path, value.GetValue<string>())));
                break;
            case FieldType.Record when value is JsonObject record:
                foreach (var sub in field.Fields)
                    if (record[sub.Name] is { } subValue)
                        Walk(sub, subValue, path + "." + sub.Name, r => record[sub.Name] = r, resolve);
                break;
            case FieldType.Array or FieldType.Set when value is JsonArray array && field.Elements is { } elements:
                for (var i = 0; i < array.Count; i++)
                {
                    var index = i;
                    if (array[i] is { } element) Walk(elements, element, $"{path}[{i + 1}]", r => array[index] = r, resolve);
                }
                break;
            case FieldType.Map when value is JsonObject map && field.Values is { } values:
                foreach (var key in map.Select(p => p.Key).ToList())
                    if (map[key] is { } entry) Walk(values, entry, path + "." + key, r => map[key] = r, resolve);
                break;
        }
    }

    /// <summary>False for schemas with no referenceable field anywhere (routes, services, …): their rows are not scanned.
    /// A field chosen from the row (a plugin's config) may be referenceable.</summary>
    public static bool MayHoldReferences(EntitySchema schema) => schema.Fields.Any(MayHoldReferences);

    private static bool MayHoldReferences(FieldDefinition field) =>
        field.Referenceable || field.ResolveFrom is not null
        || field.Fields.Any(MayHoldReferences)
        || (field.Elements is { } e && MayHoldReferences(e))
        || (field.Values is { } v && MayHoldReferences(v));

    /// <summary>Cheap pre-check: any string in the row that looks like a reference.</summary>
    private static bool HoldsReference(JsonNode? node) => node switch
    {
        JsonObject o => o.Any(p => HoldsReference(p.Value)),
        JsonArray a => a.Any(HoldsReference),
        JsonValue v => v.GetValueKind() == JsonValueKind.String && VaultReference.IsReference(v.GetValue<string>()),
        _ => false,
    };
}
