using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Model;

namespace Gatehouse.Entities.Schemas;

/// <summary>Kong 3.9's <c>vaults</c>: a named configuration of a vault strategy (<c>name</c>; <c>env</c> is the one
/// Gatehouse bundles), addressed in references and at <c>/vaults/{prefix}</c> by its unique <c>prefix</c>. The
/// configuration builder adds them first and resolves the other entities' references with them.</summary>
public static class VaultEntity
{
    /// <summary>The schema of a node that loads the env vault (Kong's <c>vaults = bundled</c>).</summary>
    public static EntitySchema Schema { get; } = Create(envLoaded: true);

    /// <param name="envLoaded">whether the node loads the env vault (conf <c>vaults</c>); when it does not, a vault
    /// naming it is Kong's "vault 'env' is not installed", as every other strategy</param>
    public static EntitySchema Create(bool envLoaded) => new()
    {
        Name = "vaults",
        SingularName = "vault",
        EndpointKey = "prefix",
        AddToConfig = (config, rows) => config with { Vaults = [.. rows.Select(ToModel)] },
        Fields =
        [
            Typedefs.Id(),
            // Kong: a host part of a reference URI, and not the name of a vault strategy (that would shadow it)
            new FieldDefinition("prefix", FieldType.String)
            {
                Required = true, Unique = true,
                Match = PatternRule.Of(@"^[a-z][a-z0-9-]*[a-z0-9]\z", "invalid value: %s"),
                NotOneOf = [VaultResolver.EnvStrategy],
                Description = "The unique prefix (or identifier) for this Vault configuration.",
            },
            new FieldDefinition("name", FieldType.String)
            {
                Required = true,
                Custom = v => envLoaded && v.GetValue<string>() == VaultResolver.EnvStrategy ? null : $"vault '{v.GetValue<string>()}' is not installed",
                Description = "The name of the Vault that's going to be added.",
            },
            new FieldDefinition("description", FieldType.String) { Description = "The description of the Vault entity." },
            // Kong's abstract config record, here the env vault's subschema
            new FieldDefinition("config", FieldType.Record)
            {
                Required = true, Default = new JsonObject(),
                Fields =
                [
                    new FieldDefinition("prefix", FieldType.String)
                    {
                        Match = PatternRule.Of(@"^[A-Za-z_-][A-Za-z0-9_-]*\z", "invalid value: %s"),
                        Description = "The prefix for the environment variable that the value will be stored in.",
                    },
                ],
            },
            Typedefs.AutoTimestamp("created_at"),
            Typedefs.AutoTimestamp("updated_at"),
            Typedefs.Tags(),
        ],
    };

    public static VaultModel ToModel(JsonObject e)
    {
        var r = new EntityReader(Schema, e);
        return new()
        {
            Id = r.Guid("id"),
            Prefix = r.RequiredString("prefix"),
            Name = r.RequiredString("name"),
            EnvPrefix = e["config"] is JsonObject config ? EntityJson.String(config, "prefix") : null,
        };
    }
}
