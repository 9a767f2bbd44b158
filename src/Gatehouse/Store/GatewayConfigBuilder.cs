using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Entities;
using Gatehouse.Entities.Schemas;
using Gatehouse.Model;

namespace Gatehouse.Store;

/// <summary>
/// Turns stored entity documents into the immutable typed <see cref="GatewayConfig"/>. Each entity's
/// conversion lives next to its schema (<see cref="EntitySchema.AddToConfig"/>), so this stays generic.
/// Vault references in referenceable fields are resolved here, on copies of the rows (the rows themselves, which the
/// Admin API and exports read, keep the references): plugins, certificates and every other consumer of the
/// configuration see values, resolved once per configuration, never per request. The <c>vaults</c> are added first,
/// since the other entities' references name them.
/// </summary>
public static class GatewayConfigBuilder
{
    /// <param name="vaults">the node's env vault (conf keys and environment); null: references are not resolved
    /// (configurations built without a node)</param>
    /// <param name="unresolved">told of each reference that did not resolve (its field becomes empty, as Kong)</param>
    /// <param name="consume">the lists in <paramref name="rows"/> are the caller's own and are read by nothing else
    /// afterwards: each row of a <see cref="JsonTextRows"/> list is let go of once converted (<see cref="ConsumedRows"/>), so that a large configuration's
    /// rows and its models are not all live at once</param>
    /// <param name="entityDocuments">routes and services carry their Admin API JSON for Wasm filters
    /// (<see cref="GatewayConfig.EntityDocuments"/>); false on a node where no filter runs</param>
    public static GatewayConfig Build(EntityRegistry registry, IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> rows, long version,
        VaultResolver? vaults = null, Action<UnresolvedReference>? unresolved = null, bool consume = false, bool entityDocuments = true)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(rows);
        var config = new GatewayConfig { Version = version, EntityDocuments = entityDocuments };
        var vaultSchema = registry.ByName(VaultEntity.Schema.Name);
        if (vaultSchema?.AddToConfig is { } addVaults && rows.TryGetValue(vaultSchema, out var vaultRows))
            config = addVaults(config, consume && vaultRows is JsonTextRows ownVaults ? new ConsumedRows(ownVaults) : vaultRows);
        var resolver = vaults?.WithNamed(config.Vaults.Select(v => new NamedVault(v.Prefix, v.Name, v.EnvPrefix)));
        foreach (var schema in registry.Schemas)
        {
            if (schema == vaultSchema || schema.AddToConfig is not { } add || !rows.TryGetValue(schema, out var list)) continue;
            if (consume && list is JsonTextRows owned) list = new ConsumedRows(owned);
            config = add(config, resolver is null || !ReferenceResolver.MayHoldReferences(schema) ? list
                : [.. list.Select(row => ReferenceResolver.Resolve(schema, row, resolver, unresolved ?? (_ => { })))]);
        }
        return config;
    }
}
