using Gatehouse.Entities;

namespace Gatehouse.Store.Sqlite;

/// <summary>
/// Derives a table from an entity schema: the JSON document plus one indexed column per unique field and
/// per foreign key, so lookups, uniqueness and reference checks use indexes while the shape stays generic.
/// </summary>
internal static class SqliteDdl
{
    public static string Column(FieldDefinition field) => field.Type == FieldType.Foreign ? field.Name + "_id" : field.Name;

    /// <summary>Fields that get their own column.</summary>
    public static IEnumerable<FieldDefinition> IndexedFields(EntitySchema schema) =>
        schema.Fields.Where(f => f.Name != "id" && (f.Unique || f.Type == FieldType.Foreign));

    public static IEnumerable<string> CreateTable(EntitySchema schema)
    {
        var columns = new List<string> { "\"id\" TEXT PRIMARY KEY", "\"doc\" TEXT NOT NULL" };
        columns.AddRange(IndexedFields(schema).Select(f => $"\"{Column(f)}\" TEXT" + (f.Unique ? " UNIQUE" : "")));
        yield return $"CREATE TABLE IF NOT EXISTS \"{schema.Name}\" ({string.Join(", ", columns)})";
        foreach (var f in IndexedFields(schema).Where(f => !f.Unique))
            yield return $"CREATE INDEX IF NOT EXISTS \"{schema.Name}_{Column(f)}_idx\" ON \"{schema.Name}\" (\"{Column(f)}\")";
    }
}
