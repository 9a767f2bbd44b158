using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.Entities.Schemas;

/// <summary>Kong 3.9's <c>vaults</c>: a named configuration of a vault strategy (<c>name</c>; <c>env</c> is the one
/// Gatehouse bundles), addressed in references and at <c>/vaults/{prefix}</c> by its unique <c>prefix</c>. The data
/// plane does not keep them as models: the configuration builder reads their rows to resolve references
/// (<see cref="Named"/>).</summary>
public static class VaultEntity
{
    public static EntitySchema Schema { get; } = new()
    {
        Name = "vaults",
        SingularName = "vault",
        EndpointKey = "prefix",
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
                Custom = v => v.GetValue<string>() == VaultResolver.EnvStrategy ? null : $"vault '{v.GetValue<string>()}' is not installed",
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

    /// <summary>The vaults as references use them.</summary>
    public static IEnumerable<NamedVault> Named(IEnumerable<JsonObject> rows) =>
        rows.Select(row => new NamedVault(
            EntityJson.String(row, "prefix") ?? "",
            EntityJson.String(row, "name") ?? "",
            row["config"] is JsonObject config ? EntityJson.String(config, "prefix") : null));
}
