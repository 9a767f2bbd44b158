using Gatehouse.Cli;
using Gatehouse.Hosting;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Cli.CliRun;

namespace Gatehouse.Tests.Cli;

/// <summary>
/// <c>gatehouse start</c> on PostgreSQL, as real processes: like Kong's start it does not migrate (a database that is
/// not bootstrapped, or has new migrations, stops the start naming the command to run) unless
/// <c>--run-migrations</c>; a database a newer Gatehouse migrated stops it on any store.
/// </summary>
public sealed class StartMigrationCheckTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gatehouse-start-migrations-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Task<(int ExitCode, string StdOut, string StdErr)> StartToExitAsync(MigrationDatabase db) =>
        GatewayProcess.RunToExitAsync("start", "-c", db.ConfPath);

    [Fact]
    public async Task Start_on_a_database_that_was_never_bootstrapped_stops_and_names_the_command()
    {
        var db = await MigrationDatabase.CreateAsync("postgres", _dir);
        var (code, _, error) = await StartToExitAsync(db);
        Assert.Equal(1, code);
        Assert.Contains("Database needs bootstrapping or is older than Kong 1.0", error);
        Assert.Contains("'gatehouse migrations bootstrap'", error);
        Assert.Contains("--run-migrations", error);
        Assert.Equal(3, (await RunAsync("migrations", "list", "-c", db.ConfPath)).Code); // start did not migrate
    }

    [Fact]
    public async Task Start_with_new_migrations_stops_until_up_has_run()
    {
        var db = await MigrationDatabase.CreateAsync("postgres", _dir);
        Assert.Equal(0, (await RunAsync("migrations", "bootstrap", "-c", db.ConfPath)).Code);
        await db.ExecAsync("DROP TABLE acls; DELETE FROM schema_migrations WHERE name = 'create_acls'");
        var (code, _, error) = await StartToExitAsync(db);
        Assert.Equal(1, code);
        Assert.Contains("New migrations available; run 'gatehouse migrations up' to proceed", error);
        Assert.Contains("create_acls", error);

        Assert.Equal(0, (await RunAsync("migrations", "up", "-c", db.ConfPath)).Code);
        await using var node = await GatewayProcess.StartInAsync(Directory.CreateDirectory(Path.Combine(_dir, "node")).FullName, db.ConfLines, admin: true);
        using var client = new HttpClient { BaseAddress = node.AdminUri };
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync("/acls")).StatusCode);
    }

    [Fact]
    public async Task Start_with_run_migrations_bootstraps_an_empty_database()
    {
        var db = await MigrationDatabase.CreateAsync("postgres", _dir);
        await using var node = await GatewayProcess.StartInAsync(Directory.CreateDirectory(Path.Combine(_dir, "node")).FullName, db.ConfLines, admin: true, "--run-migrations");
        using var client = new HttpClient { BaseAddress = node.AdminUri };
        var created = await client.PostAsync("/services", new StringContent("""{"name":"s","url":"http://a.test"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        var (code, output, _) = await RunAsync("migrations", "list", "-c", db.ConfPath);
        Assert.Equal(0, code);
        Assert.Contains("create_services", output);
    }

    /// <summary>Kong's restart takes --run-migrations too (no node runs in the prefix: restart is a start).</summary>
    [Fact]
    public async Task Restart_takes_run_migrations_as_start_does()
    {
        var db = await MigrationDatabase.CreateAsync("postgres", _dir);
        var refused = await RunAsync("restart", "-c", db.ConfPath);
        Assert.Equal(1, refused.Code);
        Assert.Contains("Database needs bootstrapping", refused.Err);

        var started = new TaskCompletionSource<GatewayHost>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var error = new SyncWriter();
        var cli = new CliContext(new SyncWriter(), error, NoEnv) { OnStarted = h => started.TrySetResult(h) };
        var run = GatehouseCli.InvokeAsync(["restart", "-c", db.ConfPath, "--run-migrations"], cli, stop.Token);
        await Task.WhenAny(started.Task, run);
        Assert.True(started.Task.IsCompleted, error.ToString());
        stop.Cancel();
        Assert.Equal(0, await run);
        Assert.Equal(0, (await RunAsync("migrations", "list", "-c", db.ConfPath)).Code);
    }

    [Theory]
    [MemberData(nameof(MigrationDatabase.Kinds), MemberType = typeof(MigrationDatabase))]
    public async Task Start_on_a_database_a_newer_gatehouse_migrated_stops_naming_the_migrations(string kind)
    {
        var db = await MigrationDatabase.CreateAsync(kind, _dir);
        Assert.Equal(0, (await RunAsync("migrations", "bootstrap", "-c", db.ConfPath)).Code);
        await db.ExecAsync("INSERT INTO schema_migrations (name, executed_at) VALUES ('create_from_the_future', 1)");
        var (code, _, error) = await StartToExitAsync(db);
        Assert.Equal(1, code);
        Assert.Contains("migrations this Gatehouse", error);
        Assert.Contains("create_from_the_future", error);
    }
}
