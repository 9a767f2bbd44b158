using System.Text.Json.Nodes;
using Gatehouse.Model;

namespace Gatehouse.Entities.Schemas;

/// <summary>Kong's <c>acls</c> at <c>/consumers/{c}/acls</c>: one group per row, unique per consumer.</summary>
public static class AclEntity
{
    public static EntitySchema Schema { get; } = new()
    {
        Name = "acls",
        SingularName = "acl",
        EndpointKey = null,
        CacheKey = ["consumer", "group"],
        AddToConfig = (config, rows) => config with { Acls = [.. rows.Select(ToModel)] },
        Fields =
        [
            Typedefs.Id(),
            Typedefs.AutoTimestamp("created_at"),
            Typedefs.AutoTimestamp("updated_at"),
            Typedefs.Foreign("consumer", "consumers", OnDelete.Cascade) with { Required = true },
            new FieldDefinition("group", FieldType.String) { Required = true },
            Typedefs.Tags(),
        ],
    };

    public static AclModel ToModel(JsonObject e) =>
        new(EntityJson.Guid(e, "id"), EntityJson.ForeignId(e, "consumer") ?? Guid.Empty, EntityJson.String(e, "group") ?? "");
}
