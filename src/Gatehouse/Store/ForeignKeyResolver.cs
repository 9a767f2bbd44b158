using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Store;

/// <summary>
/// Kong's <c>resolve_foreign</c>: a foreign value without a valid <c>id</c> (e.g. <c>"service": {"name": "s1"}</c>
/// or the form <c>service.name=s1</c>) is looked up by the referenced entity's unique fields and replaced by
/// its primary key; a lookup that finds nothing is Kong's "foreign keys unresolved" error (code 13).
/// </summary>
internal static class ForeignKeyResolver
{
    public static async Task<DbError?> ResolveAsync(IEntityStore store, EntityRegistry registry, EntitySchema schema,
        JsonObject data, CancellationToken ct)
    {
        JsonObject? errors = null;
        foreach (var field in schema.ForeignFields)
        {
            if (data[field.Name] is not JsonObject value || HasValidId(value)) continue;
            if (registry.ByName(field.Reference!) is not { } target) continue;
            JsonObject? unresolved = null;
            foreach (var unique in target.UniqueFields)
            {
                if (value[unique.Name] is not JsonValue v || !v.TryGetValue<string>(out var text) || text.Length == 0) continue;
                if (await store.SelectByUniqueAsync(target, unique.Name, text, ct) is { } found)
                {
                    data[field.Name] = new JsonObject { ["id"] = found["id"]?.DeepClone() };
                    unresolved = null;
                    break;
                }
                (unresolved ??= [])[unique.Name] =
                    $"the foreign key cannot be resolved with '{{{unique.Name}={LuaPretty.Inline(v)}}}' for an existing '{target.Name}' entity";
            }
            if (unresolved is not null) (errors ??= [])[field.Name] = unresolved;
        }
        return errors is null ? null : DbError.ForeignKeysUnresolved(errors);
    }

    private static bool HasValidId(JsonObject value) =>
        value["id"] is JsonValue v && v.TryGetValue<string>(out var s) && Guid.TryParse(s, out _);
}
