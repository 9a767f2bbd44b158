using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gatehouse.Model;

namespace Gatehouse.Entities.Schemas;

/// <summary>Kong's <c>keyauth_credentials</c>, served at <c>/consumers/{c}/key-auth</c>; a key is generated when absent.</summary>
public static class KeyAuthCredentialEntity
{
    public static EntitySchema Schema { get; } = new()
    {
        Name = "keyauth_credentials",
        SingularName = "keyauth_credential",
        AdminApiNameOverride = "key-auths",
        NestedAdminApiName = "key-auth",
        EndpointKey = "key",
        AddToConfig = (config, rows) => config with { KeyAuthCredentials = [.. rows.Select(ToModel)] },
        Fields =
        [
            Typedefs.Id(),
            Typedefs.AutoTimestamp("created_at"),
            Typedefs.AutoTimestamp("updated_at"),
            Typedefs.Foreign("consumer", "consumers", OnDelete.Cascade) with { Required = true },
            new FieldDefinition("key", FieldType.String)
            {
                Required = true, Unique = true,
                DefaultFrom = _ => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            },
            new FieldDefinition("ttl", FieldType.Integer),
            Typedefs.Tags(),
        ],
        Checks = [new NotSupportedCheck("ttl", "key-auth credentials do not expire")],
    };

    public static KeyAuthCredentialModel ToModel(JsonObject e) =>
        new(EntityJson.Guid(e, "id"), EntityJson.ForeignId(e, "consumer") ?? Guid.Empty, EntityJson.String(e, "key") ?? "");
}
