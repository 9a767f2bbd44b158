using System.Text.Json.Nodes;

namespace Gatehouse.Store;

/// <summary>
/// Kong's <c>migrations bootstrap|up|finish|list|reset|status</c> over any <see cref="IEntityStore"/>, with Kong's
/// messages (naming Gatehouse's commands) and exit codes: <c>list</c> exits 3 when the database needs bootstrapping and
/// 5 when new migrations are available. Errors go to <c>stderr</c> as "Error: ..." with exit code 1, as Kong's CLI.
/// Gatehouse's migrations have no teardown phase: <c>finish</c> never has anything pending to finish.
/// </summary>
public sealed class MigrationCommands
{
    private readonly IEntityStore _store;
    private readonly string _database;
    private readonly TextWriter _out;
    private readonly TextWriter _err;

    /// <param name="database">how messages name the database (Kong: "migrating core on database 'kong'")</param>
    public MigrationCommands(IEntityStore store, string database, TextWriter stdout, TextWriter stderr)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _database = database ?? throw new ArgumentNullException(nameof(database));
        _out = stdout ?? throw new ArgumentNullException(nameof(stdout));
        _err = stderr ?? throw new ArgumentNullException(nameof(stderr));
    }

    /// <summary><c>bootstrap</c>: on a database never bootstrapped, runs every migration; else says it already is.
    /// <paramref name="force"/> resets the database first (Kong's <c>bootstrap --force</c>).</summary>
    public async Task<int> BootstrapAsync(bool force, CancellationToken ct)
    {
        var state = await MigrationState.ReadAsync(_store, ct);
        if (state.UnknownMessage() is { } unknown) return Fail(unknown);
        if (force && !state.NeedsBootstrap)
        {
            await ResetStoreAsync(ct);
            state = await MigrationState.ReadAsync(_store, ct);
        }
        if (!state.NeedsBootstrap)
        {
            _out.WriteLine("Database already bootstrapped");
            return 0;
        }
        _out.WriteLine("Bootstrapping database...");
        var ran = await _store.MigrateAsync(ct);
        // another node bootstrapped while this one waited for the migration lock: nothing was left to run
        if (ran.Count == 0)
        {
            _out.WriteLine("Database already bootstrapped");
            return 0;
        }
        Report(ran);
        _out.WriteLine("Database is up-to-date");
        return 0;
    }

    /// <summary><c>up</c>: runs the new migrations; a database never bootstrapped is refused (run bootstrap).</summary>
    public async Task<int> UpAsync(CancellationToken ct)
    {
        var state = await MigrationState.ReadAsync(_store, ct);
        if (state.UnknownMessage() is { } unknown) return Fail(unknown);
        if (state.NeedsBootstrap) return Fail("Cannot run migrations: " + MigrationState.NeedsBootstrapMessage);
        var ran = state.New.Count == 0 ? [] : await _store.MigrateAsync(ct);
        if (ran.Count == 0)
        {
            _out.WriteLine("Database is already up-to-date");
            return 0;
        }
        Report(ran);
        return 0;
    }

    /// <summary><c>finish</c>: Kong runs the teardown phase of migrations left pending by <c>up</c>; Gatehouse's
    /// migrations have none, so this only reports the state.</summary>
    public async Task<int> FinishAsync(CancellationToken ct)
    {
        var state = await MigrationState.ReadAsync(_store, ct);
        if (state.UnknownMessage() is { } unknown) return Fail(unknown);
        if (state.NeedsBootstrap) return Fail("Cannot run migrations: " + MigrationState.NeedsBootstrapMessage);
        _out.WriteLine(state.New.Count > 0 ? "\n" + MigrationState.NewMigrationsMessage : "No pending migrations to finish");
        return 0;
    }

    /// <summary><c>list</c>: 0 up to date, 3 needs bootstrapping, 5 new migrations available (Kong's codes); 1 when the
    /// database holds migrations this binary does not know.</summary>
    public async Task<int> ListAsync(CancellationToken ct)
    {
        var state = await MigrationState.ReadAsync(_store, ct);
        if (state.NeedsBootstrap)
        {
            _out.WriteLine(MigrationState.NeedsBootstrapMessage);
            return 3;
        }
        _out.WriteLine("Executed migrations:\n" + BySubsystem(state.Executed.Select(m => m.Name)));
        if (state.UnknownMessage() is { } unknown) return Fail(unknown);
        if (state.New.Count > 0)
        {
            _out.WriteLine("\nNew migrations available:\n" + BySubsystem(state.New));
            _out.WriteLine("\nRun 'gatehouse migrations up' to proceed");
            return 5;
        }
        return 0;
    }

    /// <summary><c>status</c>: the state as JSON (Kong dumps its schema state; ours adds when each migration ran and
    /// the schema version).</summary>
    public async Task<int> StatusAsync(CancellationToken ct)
    {
        var state = await MigrationState.ReadAsync(_store, ct);
        var json = new JsonObject
        {
            ["needs_bootstrap"] = state.NeedsBootstrap,
            ["schema_version"] = state.SchemaVersion,
            ["known_migrations"] = state.Known,
            ["executed_migrations"] = new JsonArray([.. state.Executed.Select(m => (JsonNode)new JsonObject
            {
                ["name"] = m.Name,
                ["executed_at"] = m.ExecutedAt.ToUnixTimeSeconds(),
            })]),
            ["new_migrations"] = new JsonArray([.. state.New.Select(n => (JsonNode)JsonValue.Create(n))]),
            ["unknown_migrations"] = new JsonArray([.. state.Unknown.Select(n => (JsonNode)JsonValue.Create(n))]),
        };
        _out.WriteLine(json.ToJsonString());
        return 0;
    }

    /// <summary><c>reset</c> once confirmed: drops every table. 1 when the database was never bootstrapped (Kong).</summary>
    public async Task<int> ResetAsync(CancellationToken ct)
    {
        var state = await MigrationState.ReadAsync(_store, ct);
        if (state.NeedsBootstrap)
        {
            _out.WriteLine("Database not bootstrapped, nothing to reset");
            return 1;
        }
        await ResetStoreAsync(ct);
        return 0;
    }

    private async Task ResetStoreAsync(CancellationToken ct)
    {
        _out.WriteLine("Resetting database...");
        await _store.ResetAsync(ct);
        _out.WriteLine("Database successfully reset");
    }

    /// <summary>Kong's run_migrations report, per subsystem: "core", or a plugin's name for its own tables
    /// (migrations named "plugin/name").</summary>
    private void Report(IReadOnlyList<string> ran)
    {
        foreach (var group in ran.GroupBy(Subsystem))
        {
            _out.WriteLine($"migrating {group.Key} on database '{_database}'...");
            foreach (var name in group) _out.WriteLine($"{group.Key} migrated up to: {ShortName(name)} (executed)");
        }
        _out.WriteLine($"{ran.Count} migration{(ran.Count == 1 ? "" : "s")} processed");
        _out.WriteLine($"{ran.Count} executed");
    }

    /// <summary>"core", or the plugin whose own table a migration named "plugin/name" creates.</summary>
    private static string Subsystem(string name) =>
        name.IndexOf('/', StringComparison.Ordinal) is > 0 and var slash ? name[..slash] : "core";

    private static string ShortName(string name) => name[(name.IndexOf('/', StringComparison.Ordinal) + 1)..];

    /// <summary>Kong's list: one line per subsystem, "core: a, b" then "rate-limiting: c".</summary>
    private static string BySubsystem(IEnumerable<string> names) =>
        string.Join("\n", names.GroupBy(Subsystem).Select(g => $"{g.Key}: {string.Join(", ", g.Select(ShortName))}"));

    private int Fail(string message)
    {
        _err.WriteLine("Error: " + message);
        return 1;
    }
}
