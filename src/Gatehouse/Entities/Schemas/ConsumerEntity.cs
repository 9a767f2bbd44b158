using System.Text.Json.Nodes;
using Gatehouse.Model;

namespace Gatehouse.Entities.Schemas;

/// <summary>Kong 3.x <c>consumers</c>: username and/or custom_id, both unique.</summary>
public static class ConsumerEntity
{
    public static EntitySchema Schema { get; } = new()
    {
        Name = "consumers",
        SingularName = "consumer",
        EndpointKey = "username",
        AddToConfig = (config, rows) => config with { Consumers = [.. rows.Select(ToModel)] },
        Fields =
        [
            Typedefs.Id(),
            Typedefs.AutoTimestamp("created_at"),
            Typedefs.AutoTimestamp("updated_at"),
            new FieldDefinition("username", FieldType.String) { Unique = true },
            new FieldDefinition("custom_id", FieldType.String) { Unique = true },
            Typedefs.Tags(),
        ],
        Checks = [new AtLeastOneOfCheck(["custom_id", "username"])],
    };

    public static ConsumerModel ToModel(JsonObject e) => new()
    {
        Id = EntityJson.Guid(e, "id"),
        Username = EntityJson.String(e, "username"),
        CustomId = EntityJson.String(e, "custom_id"),
        Tags = EntityJson.Strings(e, "tags"),
    };
}
