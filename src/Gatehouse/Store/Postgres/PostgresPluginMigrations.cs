namespace Gatehouse.Store.Postgres;

/// <summary>
/// The tables bundled plugins keep in PostgreSQL, as named migrations run after the entity tables (and recorded in
/// <c>schema_migrations</c> the same way). Here rather than beside the plugin because the store (and the
/// <c>migrations</c> commands) must not depend on Plugins. Today: rate-limiting's <c>ratelimiting_metrics</c> for the
/// <c>cluster</c> policy, in the shape Kong's rate-limiting migrations 000, 003 and 004 leave it.
/// </summary>
internal static class PostgresPluginMigrations
{
    /// <summary>The tables these migrations create (what <c>migrations reset</c> drops).</summary>
    public static IReadOnlyList<string> Tables { get; } = ["ratelimiting_metrics"];

    public static IReadOnlyList<(string Name, IReadOnlyList<string> Statements)> All { get; } =
    [
        ("rate-limiting/000_base_rate_limiting",
        [
            """
            CREATE TABLE IF NOT EXISTS "ratelimiting_metrics" (
              "identifier"  text NOT NULL,
              "period"      text NOT NULL,
              "period_date" timestamp with time zone NOT NULL,
              "service_id"  uuid NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000'::uuid,
              "route_id"    uuid NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000'::uuid,
              "value"       integer,
              "ttl"         timestamp with time zone,
              PRIMARY KEY ("identifier", "period", "period_date", "service_id", "route_id"))
            """,
            """CREATE INDEX IF NOT EXISTS "ratelimiting_metrics_idx" ON "ratelimiting_metrics" ("service_id", "route_id", "period_date", "period")""",
            """CREATE INDEX IF NOT EXISTS "ratelimiting_metrics_ttl_idx" ON "ratelimiting_metrics" ("ttl")""",
        ]),
    ];
}
