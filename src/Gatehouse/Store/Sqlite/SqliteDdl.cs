using Gatehouse.Entities;

namespace Gatehouse.Store.Sqlite;

/// <summary>The SQLite table of an entity schema: the JSON document plus the <see cref="EntityColumns"/>.</summary>
internal static class SqliteDdl
{
    public static IEnumerable<string> CreateTable(EntitySchema schema)
    {
        var columns = new List<string> { "\"id\" TEXT PRIMARY KEY", "\"doc\" TEXT NOT NULL" };
        columns.AddRange(EntityColumns.IndexedFields(schema).Select(f => $"\"{EntityColumns.Column(f)}\" TEXT" + (f.Unique ? " UNIQUE" : "")));
        yield return $"CREATE TABLE IF NOT EXISTS \"{schema.Name}\" ({string.Join(", ", columns)})";
        foreach (var f in EntityColumns.IndexedFields(schema).Where(f => !f.Unique))
            yield return $"CREATE INDEX IF NOT EXISTS \"{schema.Name}_{EntityColumns.Column(f)}_idx\" ON \"{schema.Name}\" (\"{EntityColumns.Column(f)}\")";
    }
}
