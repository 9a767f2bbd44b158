using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Store;

/// <summary>Kong's unique <c>cache_key</c> column: no two rows may reference the same combination of the
/// schema's <see cref="EntitySchema.CacheKey"/> foreign fields. Reported as a unique violation naming every field.</summary>
internal static class CacheKeyConstraint
{
    public static async Task<DbError?> FindConflictAsync(IEntityStore store, EntitySchema schema, JsonObject entity, Guid id, CancellationToken ct)
    {
        if (schema.CacheKey is not { Count: > 0 } fields) return null;
        var probe = fields.FirstOrDefault(f => EntityJson.ForeignId(entity, f) is not null);
        if (probe is null) return null;
        var page = await store.PageAsync(schema, new PageQuery(int.MaxValue - 1, Foreign: new ForeignFilter(probe, EntityJson.ForeignId(entity, probe)!.Value)), ct);
        foreach (var other in page.Items)
        {
            if (EntityJson.Guid(other, "id") == id) continue;
            if (fields.All(f => EntityJson.ForeignId(other, f) == EntityJson.ForeignId(entity, f))) return Violation(fields, entity);
        }
        return null;
    }

    public static DbError Violation(IReadOnlyList<string> fields, JsonObject entity)
    {
        var values = new JsonObject();
        foreach (var f in fields) values[f] = entity[f]?.DeepClone();
        var text = string.Join(",", fields.Order(StringComparer.Ordinal).Select(f => $"{f}={LuaPretty.Inline(entity[f])}"));
        return new DbError(DbErrorCode.UniqueViolation, $"UNIQUE violation detected on '{{{text}}}'", values);
    }
}
