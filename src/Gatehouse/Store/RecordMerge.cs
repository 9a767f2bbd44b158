using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Store;

/// <summary>PATCH semantics of Kong's DAO (<c>merge_values</c>): a record field sent partially (e.g. a plugin's
/// <c>config</c>) is merged into the stored record, recursively for nested records; every other value replaces.</summary>
internal static class RecordMerge
{
    public static JsonNode? Merge(FieldDefinition? field, JsonObject data, JsonNode? stored, JsonNode? patch)
    {
        var resolved = field?.ResolveFrom?.Invoke(data) ?? field;
        if (resolved is not { Type: FieldType.Record } || stored is not JsonObject current || patch is not JsonObject partial)
            return patch?.DeepClone();
        var merged = current.DeepClone().AsObject();
        foreach (var (key, value) in partial)
            merged[key] = Merge(resolved.Fields.FirstOrDefault(f => f.Name == key), merged, merged[key], value);
        return merged;
    }
}
