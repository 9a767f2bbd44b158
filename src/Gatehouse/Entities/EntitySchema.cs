using System.Text.Json.Nodes;
using Gatehouse.Model;

namespace Gatehouse.Entities;

/// <summary>
/// The single definition of an entity: from it come validation, storage columns, the generated Admin API
/// endpoints, declarative parsing and the schema dump. Adding an entity means adding one of these.
/// </summary>
public sealed record EntitySchema
{
    /// <summary>Table name and plural, e.g. "services".</summary>
    public required string Name { get; init; }
    /// <summary>Used in declarative error reports (Kong's <c>entity_type</c>), e.g. "service".</summary>
    public required string SingularName { get; init; }
    /// <summary>URL segment; Kong uses dashes (filter-chains) where the table name has underscores.</summary>
    public string AdminApiName => AdminApiNameOverride ?? Name.Replace('_', '-');
    public string? AdminApiNameOverride { get; init; }
    /// <summary>URL segment under a parent when it differs (Kong: <c>/key-auths</c> but <c>/consumers/{c}/key-auth</c>).</summary>
    public string? NestedAdminApiName { get; init; }
    /// <summary>Alternative unique key accepted wherever an id is (Kong's <c>endpoint_key</c>).</summary>
    public string? EndpointKey { get; init; } = "name";
    public required IReadOnlyList<FieldDefinition> Fields { get; init; }
    public IReadOnlyList<EntityCheck> Checks { get; init; } = [];
    public IReadOnlyList<ShorthandField> Shorthands { get; init; } = [];
    /// <summary>Fields whose combination is unique, Kong's <c>cache_key</c> (one chain per route/service, one plugin
    /// per name and scope, one ACL group per consumer); a duplicate answers 409. Enforced by
    /// <c>Store.CacheKeyConstraint</c>, null-aware.</summary>
    public IReadOnlyList<string> CacheKey { get; init; } = [];
    /// <summary>
    /// Adds this entity's rows, converted to typed models, to a configuration being built. Null for
    /// entities the data plane does not use. This is where an entity meets <see cref="GatewayConfig"/>.
    /// </summary>
    public Func<GatewayConfig, IReadOnlyList<JsonObject>, GatewayConfig>? AddToConfig { get; init; }
    /// <summary>Transforms a validated entity before storage, given the client's input (e.g. hashing a password
    /// only when one was sent, as Kong's basic-auth DAO does).</summary>
    public Func<JsonObject, JsonObject, JsonObject>? BeforeWrite { get; init; }
    /// <summary>A transient field listing child entities by their key (Kong's certificate <c>snis</c>): never stored;
    /// the DAO creates or replaces the children from it and returns the children's names in it.</summary>
    public ChildNameList? ChildNames { get; init; }

    public FieldDefinition? Field(string name)
    {
        for (var i = 0; i < Fields.Count; i++) if (Fields[i].Name == name) return Fields[i]; // no enumerator: called per field of every row
        return null;
    }

    public IEnumerable<FieldDefinition> ForeignFields => Fields.Where(f => f.Type == FieldType.Foreign);
    public IEnumerable<FieldDefinition> UniqueFields => Fields.Where(f => f.Unique);
    public bool HasTags => Field("tags") is not null;

    /// <summary>The endpoint key value of a stored entity (for error reports), or null.</summary>
    public string? EndpointKeyValue(JsonObject entity) =>
        EndpointKey is not null && entity[EndpointKey] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}

/// <summary>The transient <paramref name="Field"/> of a parent lists its <paramref name="Child"/> rows by
/// <paramref name="ChildKey"/>; each child points at the parent through <paramref name="ChildForeign"/>.</summary>
public sealed record ChildNameList(string Field, string Child, string ChildKey, string ChildForeign);
