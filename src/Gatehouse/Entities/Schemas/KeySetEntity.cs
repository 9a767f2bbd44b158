using System.Text.Json.Nodes;
using Gatehouse.Model;

namespace Gatehouse.Entities.Schemas;

/// <summary>Kong 3.9's <c>key_sets</c> (<c>/key-sets</c>): a named group of keys; deleting a set deletes its keys.</summary>
public static class KeySetEntity
{
    public static EntitySchema Schema { get; } = new()
    {
        Name = "key_sets",
        SingularName = "key_set",
        EndpointKey = "name",
        AddToConfig = (config, rows) => config with { KeySets = [.. rows.Select(ToModel)] },
        Fields =
        [
            Typedefs.Id(),
            new FieldDefinition("name", FieldType.String) { Unique = true, Description = "The name to associate with the given Key Set." },
            Typedefs.Tags(),
            Typedefs.AutoTimestamp("created_at"),
            Typedefs.AutoTimestamp("updated_at"),
        ],
    };

    public static KeySetModel ToModel(JsonObject e)
    {
        var r = new EntityReader(Schema, e);
        return new() { Id = r.Guid("id"), Name = r.String("name"), Tags = r.Strings("tags") };
    }
}
