using Gatehouse.Entities;

namespace Gatehouse.Store.Postgres;

/// <summary>
/// The PostgreSQL table of an entity schema: the same shape as SQLite's (the JSON document plus the
/// <see cref="EntityColumns"/>) with a <c>uuid</c> primary key, and Kong's <c>tags text[]</c>
/// column with a GIN index so <c>?tags=</c> filters use an index.
/// </summary>
internal static class PostgresDdl
{
    public static bool HasTags(EntitySchema schema) => schema.Field("tags") is not null;

    public static IEnumerable<string> CreateTable(EntitySchema schema)
    {
        var columns = new List<string> { "\"id\" uuid PRIMARY KEY", "\"doc\" text NOT NULL" };
        if (HasTags(schema)) columns.Add("\"tags\" text[]");
        columns.AddRange(EntityColumns.IndexedFields(schema).Select(f => $"\"{EntityColumns.Column(f)}\" text" + (f.Unique ? " UNIQUE" : "")));
        yield return $"CREATE TABLE IF NOT EXISTS \"{schema.Name}\" ({string.Join(", ", columns)})";
        foreach (var f in EntityColumns.IndexedFields(schema).Where(f => !f.Unique))
            yield return $"CREATE INDEX IF NOT EXISTS \"{schema.Name}_{EntityColumns.Column(f)}_idx\" ON \"{schema.Name}\" (\"{EntityColumns.Column(f)}\")";
        if (HasTags(schema))
            yield return $"CREATE INDEX IF NOT EXISTS \"{schema.Name}_tags_idx\" ON \"{schema.Name}\" USING GIN (\"tags\")";
    }
}
