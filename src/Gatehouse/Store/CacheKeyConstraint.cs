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
        // narrow the scan through a set foreign key when there is one (indexed); otherwise every row is a candidate
        var probe = fields.FirstOrDefault(f => IsForeign(schema, f) && EntityJson.ForeignId(entity, f) is not null);
        var query = probe is null
            ? new PageQuery(int.MaxValue - 1)
            : new PageQuery(int.MaxValue - 1, Foreign: new ForeignFilter(probe, EntityJson.ForeignId(entity, probe)!.Value));
        foreach (var other in (await store.PageAsync(schema, query, ct)).Items)
            if (EntityJson.Guid(other, "id") != id && SameKey(schema, other, entity)) return Violation(fields, entity);
        return null;
    }

    /// <summary>Whether two validated entities of <paramref name="schema"/> share their cache key (false when the
    /// schema has none). Also used by the declarative loader.</summary>
    public static bool SameKey(EntitySchema schema, JsonObject a, JsonObject b) =>
        schema.CacheKey.Count > 0 && schema.CacheKey.All(f => IsForeign(schema, f)
            ? EntityJson.ForeignId(a, f) == EntityJson.ForeignId(b, f)
            : JsonNode.DeepEquals(a[f], b[f]));

    /// <summary>Kong's cache key text: the values joined by <c>:</c>, foreign keys by id, absent values empty.</summary>
    public static string KeyText(EntitySchema schema, JsonObject entity) => string.Join(':', schema.CacheKey.Select(f =>
        IsForeign(schema, f) ? EntityJson.ForeignId(entity, f)?.ToString() ?? ""
        : entity[f] is JsonValue v && v.TryGetValue<string>(out var s) ? s : entity[f]?.ToJsonString() ?? ""));

    private static bool IsForeign(EntitySchema schema, string field) => schema.Field(field)?.Type == FieldType.Foreign;

    public static DbError Violation(IReadOnlyList<string> fields, JsonObject entity)
    {
        var values = new JsonObject();
        foreach (var f in fields.Order(StringComparer.Ordinal)) values[f] = entity[f]?.DeepClone();
        return new DbError(DbErrorCode.UniqueViolation, $"UNIQUE violation detected on '{LuaPretty.Inline(values)}'", values);
    }
}
