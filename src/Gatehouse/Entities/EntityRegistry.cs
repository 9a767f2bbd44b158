using Gatehouse.Entities.Schemas;

namespace Gatehouse.Entities;

/// <summary>
/// Every known entity schema, parents before children (the order used for declarative loading, storage
/// migrations and deletion checks). New entities (filter_chains, plugins, consumers...) are added here.
/// </summary>
public sealed class EntityRegistry
{
    public static EntityRegistry Default { get; } = new([ServiceEntity.Schema, RouteEntity.Schema,
        // :: plugins and consumers (issue 5)
        ConsumerEntity.Schema, PluginEntity.Create(Gatehouse.Plugins.PluginCatalog.Bundled),
        KeyAuthCredentialEntity.Schema, BasicAuthCredentialEntity.Schema, AclEntity.Schema,
        // :: filter chains (issue 4)
        FilterChainEntity.Create(Gatehouse.Wasm.WasmFilterCatalog.Off)]);

    public EntityRegistry(IReadOnlyList<EntitySchema> schemas)
    {
        ArgumentNullException.ThrowIfNull(schemas);
        Schemas = schemas;
    }

    public IReadOnlyList<EntitySchema> Schemas { get; }

    public EntitySchema? ByName(string name) => Schemas.FirstOrDefault(s => s.Name == name);

    public EntitySchema? ByAdminName(string name) => Schemas.FirstOrDefault(s => s.AdminApiName == name);

    /// <summary>Foreign fields of other entities that point at <paramref name="parent"/>.</summary>
    public IEnumerable<(EntitySchema Child, FieldDefinition Field)> ReferencesTo(EntitySchema parent) =>
        from s in Schemas from f in s.ForeignFields where f.Reference == parent.Name select (s, f);
}
