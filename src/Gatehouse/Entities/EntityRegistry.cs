using Gatehouse.Entities.Schemas;

namespace Gatehouse.Entities;

/// <summary>
/// Every known entity schema, parents before children (the order used for declarative loading, storage
/// migrations and deletion checks). New entities (filter_chains, plugins, consumers...) are added in
/// <see cref="Create"/>.
/// </summary>
public sealed class EntityRegistry
{
    /// <summary>Kong's entities for a node whose plugin names and filters come from <paramref name="plugins"/> and
    /// <paramref name="filters"/> (composed by the host: Entities names neither Plugins nor Wasm).</summary>
    /// <exception cref="ArgumentException">two sources offer one plugin name</exception>
    /// <param name="supportsAlgorithm">which upstream algorithms the data plane balances with (the host asks the
    /// balancers); null: round-robin only</param>
    public static EntityRegistry Create(IReadOnlyList<IPluginSchemaSource> plugins, IFilterSchemaSource filters,
        Func<string, bool>? supportsAlgorithm = null, bool envVaultLoaded = true) =>
        new([ServiceEntity.Schema, RouteEntity.Schema,
            // :: plugins and consumers (issue 5)
            ConsumerEntity.Schema, PluginEntity.Create(plugins),
            KeyAuthCredentialEntity.Schema, BasicAuthCredentialEntity.Schema, AclEntity.Schema,
            // :: filter chains (issue 4)
            FilterChainEntity.Create(filters),
            // :: upstreams and targets (issue 12)
            UpstreamEntity.Create(supportsAlgorithm ?? (a => a == "round-robin")), TargetEntity.Schema,
            // :: certificates, SNIs and CA certificates (issue 14)
            CertificateEntity.Schema, SniEntity.Schema, CaCertificateEntity.Schema,
            // :: key sets and keys (issue 14)
            KeySetEntity.Schema, KeyEntity.Schema,
            // :: vaults for references in referenceable fields (issue 14)
            envVaultLoaded ? VaultEntity.Schema : VaultEntity.Create(envLoaded: false)]);

    public EntityRegistry(IReadOnlyList<EntitySchema> schemas)
    {
        ArgumentNullException.ThrowIfNull(schemas);
        Schemas = schemas;
    }

    public IReadOnlyList<EntitySchema> Schemas { get; }

    public EntitySchema? ByName(string name) => Schemas.FirstOrDefault(s => s.Name == name);

    public EntitySchema? ByAdminName(string name) => Schemas.FirstOrDefault(s => s.AdminApiName == name);

    /// <summary>Foreign fields of other entities that point at <paramref name="parent"/>.</summary>
    /// <summary>Top-level arrays whose elements are ids of <paramref name="parent"/> rows (<see cref="FieldDefinition.ElementsReference"/>).</summary>
    public IEnumerable<(EntitySchema Child, FieldDefinition Field)> ArrayReferencesTo(EntitySchema parent) =>
        from s in Schemas from f in s.Fields where f.Type == FieldType.Array && f.ElementsReference == parent.Name select (s, f);

    public IEnumerable<(EntitySchema Child, FieldDefinition Field)> ReferencesTo(EntitySchema parent) =>
        from s in Schemas from f in s.ForeignFields where f.Reference == parent.Name select (s, f);
}
