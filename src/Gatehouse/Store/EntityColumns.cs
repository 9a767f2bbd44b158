using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Store;

/// <summary>
/// Which fields of an entity get their own indexed column besides the JSON document (every unique field and every
/// foreign key), the column's name and value: the same in every store, so lookups, uniqueness and reference checks
/// use indexes while the table shape stays generic.
/// </summary>
internal static class EntityColumns
{
    public static string Column(FieldDefinition field) => field.Type == FieldType.Foreign ? field.Name + "_id" : field.Name;

    /// <summary>Fields that get their own column.</summary>
    public static IEnumerable<FieldDefinition> IndexedFields(EntitySchema schema) =>
        schema.Fields.Where(f => f.Name != "id" && (f.Unique || f.Type == FieldType.Foreign));

    /// <summary>The column's text: a foreign key's id in "D" form, a string as is, anything else as JSON.</summary>
    public static string? Value(JsonObject entity, FieldDefinition field) => field.Type switch
    {
        FieldType.Foreign => EntityJson.ForeignId(entity, field.Name)?.ToString("D"),
        _ => entity[field.Name] switch { null => null, JsonValue v when v.TryGetValue<string>(out var s) => s, var n => n.ToJsonString() },
    };
}
