using Gatehouse.Entities;

namespace Gatehouse.Store.Sqlite;

/// <summary>
/// The ordered list of schema migrations. Each runs once and is recorded in
/// <c>schema_migrations</c>; the pending ones run together in one transaction. Every registered entity gets its table from its schema ("create_&lt;name&gt;"),
/// so a new entity needs no migration code; later changes to an existing table append explicit entries.
/// </summary>
internal static class SqliteMigrations
{
    public sealed record Migration(string Name, IReadOnlyList<string> Statements);

    public const string MigrationsTable =
        "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, executed_at INTEGER NOT NULL)";

    public static IReadOnlyList<Migration> For(EntityRegistry registry) =>
        [.. registry.Schemas.Select(s => new Migration("create_" + s.Name, [.. SqliteDdl.CreateTable(s)]))];
}
