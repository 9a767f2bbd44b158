using Gatehouse.Entities.Schemas;

namespace Gatehouse.Store.Sqlite;

/// <summary>
/// The ordered, append-only list of schema migrations. Each runs once, inside a transaction, and is
/// recorded in <c>schema_migrations</c>. A new entity adds one entry here (its table from its schema).
/// </summary>
internal static class SqliteMigrations
{
    public sealed record Migration(string Name, IReadOnlyList<string> Statements);

    public const string MigrationsTable =
        "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, executed_at INTEGER NOT NULL)";

    public static IReadOnlyList<Migration> All { get; } =
    [
        new("000_base_services_routes", [.. SqliteDdl.CreateTable(ServiceEntity.Schema), .. SqliteDdl.CreateTable(RouteEntity.Schema)]),
    ];
}
