using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Model;

namespace Gatehouse.Entities.Schemas;

/// <summary>Kong's <c>basicauth_credentials</c> at <c>/consumers/{c}/basic-auth</c>. The password is stored as
/// hex SHA1(password .. consumer_id), Kong's format, so credentials migrate both ways.</summary>
public static class BasicAuthCredentialEntity
{
    public static EntitySchema Schema { get; } = new()
    {
        Name = "basicauth_credentials",
        SingularName = "basicauth_credential",
        AdminApiNameOverride = "basic-auths",
        NestedAdminApiName = "basic-auth",
        EndpointKey = "username",
        AddToConfig = (config, rows) => config with { BasicAuthCredentials = [.. rows.Select(ToModel)] },
        BeforeWrite = HashPassword,
        Fields =
        [
            Typedefs.Id(),
            Typedefs.AutoTimestamp("created_at"),
            Typedefs.AutoTimestamp("updated_at"),
            Typedefs.Foreign("consumer", "consumers", OnDelete.Cascade) with { Required = true },
            new FieldDefinition("username", FieldType.String) { Required = true, Unique = true },
            new FieldDefinition("password", FieldType.String) { Required = true },
            Typedefs.Tags(),
        ],
    };

    /// <summary>Kong's crypto: lower-case hex SHA1 of the password followed by the consumer id.</summary>
    public static string Hash(string password, Guid consumerId) =>
        Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(password + consumerId.ToString())));

    private static JsonObject HashPassword(JsonObject entity, JsonObject input)
    {
        if (input["password"] is JsonValue v && v.TryGetValue<string>(out var password) && EntityJson.ForeignId(entity, "consumer") is { } consumer)
            entity["password"] = Hash(password, consumer);
        return entity;
    }

    public static BasicAuthCredentialModel ToModel(JsonObject e) => new(EntityJson.Guid(e, "id"),
        EntityJson.ForeignId(e, "consumer") ?? Guid.Empty, EntityJson.String(e, "username") ?? "", EntityJson.String(e, "password") ?? "");
}
