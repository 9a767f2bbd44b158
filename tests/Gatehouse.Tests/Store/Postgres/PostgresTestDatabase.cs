using Gatehouse.Config;

namespace Gatehouse.Tests.Store.Postgres;

/// <summary>One database on the shared server for the store-backed Admin/DAO tests; each test takes a fresh
/// <c>pg_schema</c> in it, so tests stay isolated without a CREATE DATABASE each.</summary>
internal static class PostgresTestDatabase
{
    private static readonly Lazy<Task<PostgresOptions>> Database = new(async () => await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());

    public static async Task<PostgresOptions> FreshSchemaAsync() =>
        await Database.Value with { Schema = "s_" + Guid.NewGuid().ToString("N"), PoolSize = 5 };
}
