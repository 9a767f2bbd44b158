using System.Text.Json.Nodes;
using Gatehouse.Cli;
using Gatehouse.Hosting;
using static Gatehouse.Tests.Cli.CliRun;

namespace Gatehouse.Tests.Cli;

/// <summary><c>gatehouse migrations bootstrap|up|finish|list|reset|status</c> as Kong's CLI has them, on SQLite and on a
/// real PostgreSQL server.</summary>
public sealed class MigrationsCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gatehouse-migrations-").FullName;
    private static readonly IReadOnlyList<string> Core = [.. GatehouseEntities.Default.Schemas.Select(s => "create_" + s.Name)];

    /// <summary>Every migration of a store: the core tables, and on PostgreSQL the bundled plugins' own tables.</summary>
    private static IReadOnlyList<string> KnownFor(string kind) =>
        kind == "postgres" ? [.. Core, .. Gatehouse.Store.Postgres.PostgresPluginMigrations.All.Select(m => m.Name)] : Core;

    public static TheoryData<string> Kinds => MigrationDatabase.Kinds;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Task<MigrationDatabase> NewDatabaseAsync(string kind) => MigrationDatabase.CreateAsync(kind, _dir);

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Bootstrap_runs_every_migration_once_and_then_everything_says_up_to_date(string kind)
    {
        var db = await NewDatabaseAsync(kind);
        var (code, output, _) = await RunAsync("migrations", "list", "-c", db.ConfPath);
        Assert.Equal(3, code);
        Assert.Contains("Database needs bootstrapping", output);
        (code, _, var error) = await RunAsync("migrations", "up", "-c", db.ConfPath);
        Assert.Equal(1, code);
        Assert.Contains("Error: Cannot run migrations: Database needs bootstrapping", error);
        Assert.Equal(1, (await RunAsync("migrations", "finish", "-c", db.ConfPath)).Code);

        (code, output, error) = await RunAsync("migrations", "bootstrap", "-c", db.ConfPath);
        Assert.True(code == 0, error);
        Assert.StartsWith("Bootstrapping database...", output);
        foreach (var name in Core) Assert.Contains($"core migrated up to: {name} (executed)", output);
        Assert.Contains($"{KnownFor(kind).Count} migrations processed\n{KnownFor(kind).Count} executed\nDatabase is up-to-date", output);

        (code, output, _) = await RunAsync("migrations", "bootstrap", "-c", db.ConfPath);
        Assert.Equal((0, "Database already bootstrapped\n"), (code, output));
        (code, output, _) = await RunAsync("migrations", "up", "-c", db.ConfPath);
        Assert.Equal((0, "Database is already up-to-date\n"), (code, output));
        (code, output, _) = await RunAsync("migrations", "finish", "-c", db.ConfPath);
        Assert.Equal((0, "No pending migrations to finish\n"), (code, output));
        (code, output, _) = await RunAsync("migrations", "list", "-c", db.ConfPath);
        Assert.Equal(0, code);
        var plugins = kind == "postgres" ? "\nrate-limiting: 000_base_rate_limiting" : "";
        Assert.Equal($"Executed migrations:\ncore: {string.Join(", ", Core)}{plugins}\n", output);

        (code, output, _) = await RunAsync("migrations", "status", "-c", db.ConfPath);
        Assert.Equal(0, code);
        var status = JsonNode.Parse(output)!;
        Assert.False((bool)status["needs_bootstrap"]!);
        Assert.Equal(KnownFor(kind).Count, (int)status["schema_version"]!);
        var executed = status["executed_migrations"]!.AsArray();
        Assert.Equal(KnownFor(kind).Order(), executed.Select(m => (string)m!["name"]!).Order());
        Assert.All(executed, m => Assert.True((long)m!["executed_at"]! > 0));
    }

    /// <summary>A database an older Gatehouse migrated (a migration this one has is missing): list exits 5 naming it,
    /// up runs only it, a second up does nothing.</summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Up_runs_only_the_new_migrations_and_a_second_up_does_nothing(string kind)
    {
        var db = await NewDatabaseAsync(kind);
        Assert.Equal(0, (await RunAsync("migrations", "bootstrap", "-c", db.ConfPath)).Code);
        await db.ExecAsync("DROP TABLE targets; DELETE FROM schema_migrations WHERE name = 'create_targets'");

        var (code, output, _) = await RunAsync("migrations", "list", "-c", db.ConfPath);
        Assert.Equal(5, code);
        Assert.Contains("\nNew migrations available:\ncore: create_targets\n\nRun 'gatehouse migrations up' to proceed", output);
        (code, output, _) = await RunAsync("migrations", "finish", "-c", db.ConfPath);
        Assert.Equal((0, "\nNew migrations available; run 'gatehouse migrations up' to proceed\n"), (code, output));

        (code, output, var error) = await RunAsync("migrations", "up", "-c", db.ConfPath);
        Assert.True(code == 0, error);
        Assert.Contains("core migrated up to: create_targets (executed)\n1 migration processed\n1 executed\n", output);
        Assert.DoesNotContain("create_services", output);
        (code, output, _) = await RunAsync("migrations", "up", "-c", db.ConfPath);
        Assert.Equal((0, "Database is already up-to-date\n"), (code, output));
        Assert.Equal(0, (await RunAsync("migrations", "list", "-c", db.ConfPath)).Code);
        await db.ExecAsync("SELECT count(*) FROM targets"); // the table is back
    }

    /// <summary>A database a newer Gatehouse migrated: every command names the migration it does not know.</summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_database_with_unknown_migrations_is_refused_naming_them(string kind)
    {
        var db = await NewDatabaseAsync(kind);
        Assert.Equal(0, (await RunAsync("migrations", "bootstrap", "-c", db.ConfPath)).Code);
        await db.ExecAsync("INSERT INTO schema_migrations (name, executed_at) VALUES ('create_from_the_future', 1)");
        foreach (var command in new[] { "list", "up", "bootstrap", "finish" })
        {
            var (code, _, error) = await RunAsync("migrations", command, "-c", db.ConfPath);
            Assert.True(code == 1, command);
            Assert.Contains("migrations this Gatehouse", error);
            Assert.Contains("create_from_the_future", error);
        }
        var status = JsonNode.Parse((await RunAsync("migrations", "status", "-c", db.ConfPath)).Out)!;
        Assert.Equal("create_from_the_future", (string)status["unknown_migrations"]![0]!);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Reset_asks_or_needs_yes_and_then_drops_everything(string kind)
    {
        var db = await NewDatabaseAsync(kind);
        Assert.Equal(0, (await RunAsync("migrations", "bootstrap", "-c", db.ConfPath)).Code);

        var (code, _, error) = await RunAsync("migrations", "reset", "-c", db.ConfPath);
        Assert.Equal(1, code);
        Assert.Contains("Error: not a tty: invoke 'reset' non-interactively with the --yes flag", error);

        var declined = await RunWithInputAsync("maybe\nn\n", "migrations", "reset", "-c", db.ConfPath);
        Assert.Equal(0, declined.Code);
        Assert.Equal("> Are you sure? This operation is irreversible. [y/n] > Are you sure? This operation is irreversible. [y/n] cancelled\n",
            declined.Out);
        Assert.Equal(0, (await RunAsync("migrations", "list", "-c", db.ConfPath)).Code); // still there

        var confirmed = await RunWithInputAsync("y\n", "migrations", "reset", "-c", db.ConfPath);
        Assert.Equal(0, confirmed.Code);
        Assert.EndsWith("Resetting database...\nDatabase successfully reset\n", confirmed.Out);
        Assert.Equal(3, (await RunAsync("migrations", "list", "-c", db.ConfPath)).Code);

        Assert.Equal(0, (await RunAsync("migrations", "bootstrap", "-c", db.ConfPath)).Code);
        var (yesCode, yesOut, _) = await RunAsync("migrations", "reset", "--yes", "-c", db.ConfPath);
        Assert.Equal((0, "Resetting database...\nDatabase successfully reset\n"), (yesCode, yesOut));
        if (kind == "postgres") // the plugins' own tables go too (a new bootstrap starts from nothing)
            await Assert.ThrowsAsync<Npgsql.PostgresException>(() => db.ExecAsync("SELECT 1 FROM ratelimiting_metrics"));
        var again = await RunAsync("migrations", "reset", "-y", "-c", db.ConfPath);
        Assert.Equal((1, "Database not bootstrapped, nothing to reset\n"), (again.Code, again.Out));
    }

    /// <summary>Kong's <c>bootstrap --force</c> resets first: the data is gone and every migration runs again.</summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Bootstrap_force_resets_then_bootstraps(string kind)
    {
        var db = await NewDatabaseAsync(kind);
        Assert.Equal(0, (await RunAsync("migrations", "bootstrap", "-c", db.ConfPath)).Code);
        await db.ExecAsync("DROP TABLE services"); // a damaged schema that only a reset repairs
        var (code, output, error) = await RunAsync("migrations", "bootstrap", "--force", "-c", db.ConfPath);
        Assert.True(code == 0, error);
        Assert.StartsWith("Resetting database...\nDatabase successfully reset\nBootstrapping database...\n", output);
        Assert.Contains($"{KnownFor(kind).Count} executed", output);
        await db.ExecAsync("SELECT count(*) FROM services");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Flags_that_are_not_implemented_are_refused_by_name(string kind)
    {
        var db = await NewDatabaseAsync(kind);
        var lockTimeout = await RunAsync("migrations", "bootstrap", "--lock-timeout", "5", "-c", db.ConfPath);
        Assert.Equal(1, lockTimeout.Code);
        Assert.Contains("--lock-timeout is not supported", lockTimeout.Err);
        var force = await RunAsync("migrations", "up", "-f", "-c", db.ConfPath);
        Assert.Equal(1, force.Code);
        Assert.Contains("--force is not supported by 'migrations up'", force.Err);
        Assert.Equal(3, (await RunAsync("migrations", "list", "-c", db.ConfPath)).Code); // nothing ran
        var quiet = await RunAsync("migrations", "bootstrap", "-q", "-c", db.ConfPath);
        Assert.Equal((0, ""), (quiet.Code, quiet.Out));
        var timeout = await RunAsync("migrations", "up", "--db-timeout", "7", "-c", db.ConfPath);
        if (kind == "postgres") Assert.Equal((0, "Database is already up-to-date\n"), (timeout.Code, timeout.Out));
        else Assert.Equal((1, "Error: --db-timeout applies to database = postgres only\n"), (timeout.Code, timeout.Err));
    }

    /// <summary>Several CLIs bootstrapping one empty database at once: every one succeeds, exactly one runs the
    /// migrations (the others wait on the migration lock and find them done), and the schema is whole.</summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Concurrent_bootstraps_run_the_migrations_once(string kind)
    {
        var db = await NewDatabaseAsync(kind);
        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => RunAsync("migrations", "bootstrap", "-c", db.ConfPath))));
        Assert.All(runs, r => Assert.True(r.Code == 0, r.Err));
        Assert.Single(runs, r => r.Out.Contains("Database is up-to-date", StringComparison.Ordinal));
        Assert.Equal(3, runs.Count(r => r.Out.EndsWith("Database already bootstrapped\n", StringComparison.Ordinal)));
        var status = JsonNode.Parse((await RunAsync("migrations", "status", "-c", db.ConfPath)).Out)!;
        Assert.Equal(KnownFor(kind).Count, status["executed_migrations"]!.AsArray().Count);
        Assert.Equal(KnownFor(kind).Count, (int)status["schema_version"]!);
    }

    private static async Task<(int Code, string Out, string Err)> RunWithInputAsync(string input, params string[] args)
    {
        var output = new SyncWriter();
        var error = new SyncWriter();
        var code = await GatehouseCli.InvokeAsync(args, new CliContext(output, error, NoEnv) { Input = new StringReader(input) });
        return (code, output.ToString(), error.ToString());
    }
}
