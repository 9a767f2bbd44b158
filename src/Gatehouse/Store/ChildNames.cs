using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Store;

/// <summary>
/// Kong's certificate DAO around the transient <c>snis</c> list (<see cref="ChildNameList"/>): a name listed twice, or
/// already another parent's, is a schema violation; the list is never stored; after the parent's write the children
/// are created or deleted to match it (an absent list keeps them), and the parent is returned with its children's
/// names, sorted. Reads add the names too.
/// </summary>
internal sealed class ChildNames(EntityRegistry registry, TimeProvider time)
{
    /// <summary>Kong's <c>parse_name_list</c> and <c>check_list_is_new</c>.</summary>
    public async Task<DbError?> CheckAsync(IEntityStore store, EntitySchema schema, IReadOnlyList<string>? names, Guid id, CancellationToken ct)
    {
        if (schema.ChildNames is not { } list || names is null) return null;
        var child = registry.ByName(list.Child)!;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
            if (!seen.Add(name)) return DbError.SchemaViolation(new JsonObject { [list.Field] = name + " is duplicated" });
        foreach (var name in names)
        {
            var row = await store.SelectByUniqueAsync(child, list.ChildKey, name, ct);
            if (row is not null && EntityJson.ForeignId(row, list.ChildForeign) is { } owner && owner != id)
                return DbError.SchemaViolation(new JsonObject
                {
                    [list.Field] = $"{name} already associated with existing {schema.SingularName} '{owner}'",
                });
        }
        return null;
    }

    /// <summary>Takes the list out of the entity about to be stored: null when the input had none (the children are
    /// kept), empty when the input said null (Kong: no names).</summary>
    public static IReadOnlyList<string>? Detach(EntitySchema schema, JsonObject entity, JsonObject input)
    {
        if (schema.ChildNames is not { } list) return null;
        var names = Names(entity, list);
        entity.Remove(list.Field);
        return names ?? (input.TryGetPropertyValue(list.Field, out var given) && given is null ? [] : null);
    }

    /// <summary>After the parent's write: the children match <paramref name="names"/> (when given); the parent shows them.</summary>
    public async Task<DbError?> SyncAsync(IEntityStore store, EntitySchema schema, JsonObject parent, IReadOnlyList<string>? names, CancellationToken ct)
    {
        if (schema.ChildNames is not { } list) return null;
        var child = registry.ByName(list.Child)!;
        var id = EntityJson.Guid(parent, "id");
        if (names is not null)
        {
            var current = await ChildrenAsync(store, list, child, id, ct);
            foreach (var row in current.Where(r => !names.Contains(EntityJson.String(r, list.ChildKey)!)))
                await store.DeleteAsync(child, EntityJson.Guid(row, "id"), ct);
            var existing = current.Select(r => EntityJson.String(r, list.ChildKey)).ToHashSet(StringComparer.Ordinal);
            foreach (var name in names.Where(n => !existing.Contains(n)))
            {
                var now = time.GetUtcNow();
                var input = new JsonObject
                {
                    ["id"] = Guid.NewGuid().ToString(), [list.ChildKey] = name, [list.ChildForeign] = new JsonObject { ["id"] = id.ToString() },
                    ["created_at"] = AutoTimestamp.For(child, "created_at", now), ["updated_at"] = AutoTimestamp.For(child, "updated_at", now),
                };
                var validated = EntityValidator.Validate(child, input, ValidationContext.Insert);
                if (!validated.IsValid) return DbError.SchemaViolation(new JsonObject { [list.Field] = validated.Errors!.DeepClone() });
                var outcome = await store.InsertAsync(child, validated.Entity!, ct);
                if (outcome != StoreWriteOutcome.Ok) return DbError.UniqueViolation(list.ChildKey, name);
            }
        }
        await ShowAsync(store, schema, parent, ct);
        return null;
    }

    /// <summary>The parent of the child whose key is <paramref name="key"/> (Kong: a certificate addressed by one of
    /// its SNIs), or null.</summary>
    public async Task<JsonObject?> FindParentAsync(IEntityStore store, EntitySchema schema, string key, CancellationToken ct)
    {
        if (schema.ChildNames is not { } list) return null;
        var row = await store.SelectByUniqueAsync(registry.ByName(list.Child)!, list.ChildKey, key, ct);
        return row is not null && EntityJson.ForeignId(row, list.ChildForeign) is { } parent ? await store.SelectAsync(schema, parent, ct) : null;
    }

    /// <summary>Kong's PUT by child key: the key joins the list the input gives (a list of one when none).</summary>
    public static void Include(EntitySchema schema, JsonObject data, string key)
    {
        if (schema.ChildNames is not { } list) return;
        if (data[list.Field] is not JsonArray names) data[list.Field] = names = [];
        if (!names.Any(n => n is JsonValue v && v.TryGetValue<string>(out var s) && s == key)) names.Add((JsonNode)key);
    }

    /// <summary>Adds the children's names, sorted, to a parent read from the store.</summary>
    public async Task ShowAsync(IEntityStore store, EntitySchema schema, JsonObject parent, CancellationToken ct)
    {
        if (schema.ChildNames is not { } list) return;
        var child = registry.ByName(list.Child)!;
        var names = (await ChildrenAsync(store, list, child, EntityJson.Guid(parent, "id"), ct))
            .Select(r => EntityJson.String(r, list.ChildKey)!).Order(StringComparer.Ordinal);
        parent[list.Field] = new JsonArray([.. names.Select(n => (JsonNode)n)]);
    }

    private static async Task<IReadOnlyList<JsonObject>> ChildrenAsync(IEntityStore store, ChildNameList list, EntitySchema child, Guid id, CancellationToken ct) =>
        (await store.PageAsync(child, new PageQuery(int.MaxValue - 1, Foreign: new ForeignFilter(list.ChildForeign, id)), ct)).Items;

    private static IReadOnlyList<string>? Names(JsonObject entity, ChildNameList list) =>
        entity[list.Field] is JsonArray a ? [.. a.Select(n => n!.GetValue<string>())] : null;
}
