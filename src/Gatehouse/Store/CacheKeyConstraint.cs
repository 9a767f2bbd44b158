using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Store;

/// <summary>
/// Kong's unique <c>cache_key</c> column, the one mechanism for "these fields together are unique" (filter chains:
/// route+service; plugins: name+route+service+consumer; ACLs: consumer+group). Null-aware as Kong's cache_key, which
/// writes an absent value as an empty segment: two rows that both lack a field agree on it. Foreign fields compare by
/// referenced id. Reported as Kong's unique violation naming every field (sorted) with the entity's values.
/// </summary>
internal static class CacheKeyConstraint
{
    public static async Task<DbError?> FindConflictAsync(IEntityStore store, EntitySchema schema, JsonObject entity, Guid id, CancellationToken ct)
    {
        var fields = schema.CacheKey;
        if (fields.Count == 0) return null;
        var foreign = fields.Where(f => schema.Field(f)?.Type == FieldType.Foreign).ToHashSet(StringComparer.Ordinal);
        // narrow the scan through a set foreign key when there is one (indexed); otherwise every row is a candidate
        var probe = fields.FirstOrDefault(f => foreign.Contains(f) && EntityJson.ForeignId(entity, f) is not null);
        var query = probe is null
            ? new PageQuery(int.MaxValue - 1)
            : new PageQuery(int.MaxValue - 1, Foreign: new ForeignFilter(probe, EntityJson.ForeignId(entity, probe)!.Value));
        foreach (var other in (await store.PageAsync(schema, query, ct)).Items)
        {
            if (EntityJson.Guid(other, "id") == id) continue;
            if (fields.All(f => Same(foreign.Contains(f), f, other, entity))) return Violation(fields, entity);
        }
        return null;
    }

    private static bool Same(bool foreign, string field, JsonObject a, JsonObject b) => foreign
        ? EntityJson.ForeignId(a, field) == EntityJson.ForeignId(b, field)
        : JsonNode.DeepEquals(a[field], b[field]);

    public static DbError Violation(IReadOnlyList<string> fields, JsonObject entity)
    {
        var values = new JsonObject();
        foreach (var f in fields.Order(StringComparer.Ordinal)) values[f] = entity[f]?.DeepClone();
        return new DbError(DbErrorCode.UniqueViolation, $"UNIQUE violation detected on '{LuaPretty.Inline(values)}'", values);
    }
}
