using System.CommandLine;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Store;

namespace Gatehouse.Cli;

/// <summary>
/// <c>gatehouse migrations bootstrap|up|finish|list|reset|status</c> with Kong's options: <c>-c</c>, <c>-p</c>,
/// <c>-y/--yes</c>, <c>-q/--quiet</c>, <c>-f/--force</c> (bootstrap only: reset first), <c>--db-timeout</c>
/// (PostgreSQL: replaces pg_timeout). <c>--lock-timeout</c> and <c>--force</c> elsewhere are refused by name.
/// What each does is <see cref="MigrationCommands"/>.
/// </summary>
internal static class MigrationsCommand
{
    public static Command Create(CliContext cli) => new("migrations", "Manage database schema migrations")
    {
        Sub(cli, "bootstrap", "Bootstrap the database and run all migrations", (m, o, ct) => m.BootstrapAsync(o.Force, ct)),
        Sub(cli, "up", "Run any new migrations", (m, _, ct) => m.UpAsync(ct)),
        Sub(cli, "finish", "Finish running any pending migrations after 'up' (Gatehouse's have no second phase)", (m, _, ct) => m.FinishAsync(ct)),
        Sub(cli, "list", "List executed migrations (exit 3: needs bootstrapping, 5: new migrations available)", (m, _, ct) => m.ListAsync(ct)),
        Sub(cli, "reset", "Reset the database: erases all of Gatehouse's data and tables (asks to confirm unless --yes)", ResetAsync),
        Sub(cli, "status", "Dump the database migration status in JSON format", (m, _, ct) => m.StatusAsync(ct)),
    };

    private sealed record Flags(bool Yes, bool Force, CliContext Cli, MigrationState State);

    private static Command Sub(CliContext cli, string name, string description, Func<MigrationCommands, Flags, CancellationToken, Task<int>> run)
    {
        var conf = ConfOptions.Conf();
        var prefix = ConfOptions.Prefix();
        var yes = new Option<bool>("--yes", "-y") { Description = "Assume \"yes\" to prompts and run non-interactively" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Suppress all output (errors are still printed)" };
        var force = new Option<bool>("--force", "-f") { Description = "bootstrap: reset the database first (refused by the other commands)" };
        var dbTimeout = new Option<int?>("--db-timeout") { Description = "Timeout, in seconds, for all database operations (PostgreSQL)" };
        var lockTimeout = new Option<int?>("--lock-timeout") { Description = "Not supported: refused (a node waits for the one migrating within --db-timeout)" };
        var command = new Command(name, description) { conf, prefix, yes, quiet, force, dbTimeout, lockTimeout };
        command.SetAction(async (p, ct) =>
        {
            var options = ConfOptions.Load(cli, p.GetValue(conf), p.GetValue(prefix));
            if (options is null) return 1;
            if (Refusal(name, options, p.GetValue(force), p.GetValue(dbTimeout), p.GetValue(lockTimeout)) is { } refusal)
            {
                cli.Error.WriteLine("Error: " + refusal);
                return 1;
            }
            if (p.GetValue(dbTimeout) is { } seconds) options = options with { Postgres = options.Postgres with { Timeout = TimeSpan.FromSeconds(seconds) } };
            var stdout = p.GetValue(quiet) ? TextWriter.Null : cli.Out;
            var store = StoreServiceCollectionExtensions.CreateStore(options, GatehouseEntities.Default, TimeProvider.System);
            try
            {
                var state = await MigrationState.ReadAsync(store, ct);
                var commands = new MigrationCommands(store, DatabaseName(options), stdout, cli.Error);
                return await run(commands, new Flags(p.GetValue(yes), p.GetValue(force), cli with { Out = stdout }, state), ct);
            }
            catch (Exception e) when (e is System.Data.Common.DbException or IOException or TimeoutException or UnauthorizedAccessException
                or InvalidOperationException)
            {
                cli.Error.WriteLine($"Error: {DatabaseName(options)}: {e.Message}");
                return 1;
            }
            finally
            {
                if (store is IAsyncDisposable async) await async.DisposeAsync();
                else (store as IDisposable)?.Dispose();
            }
        });
        return command;
    }

    /// <summary>What this command cannot do with these settings, named; null when it can.</summary>
    private static string? Refusal(string name, GatehouseOptions options, bool force, int? dbTimeout, int? lockTimeout) =>
        options.Database == DatabaseKind.Off ? "migrations are not needed when database = off"
        : lockTimeout is not null ? "--lock-timeout is not supported: a node waits for the one migrating, within --db-timeout (pg_timeout)"
        : force && name != "bootstrap" ? $"--force is not supported by 'migrations {name}' (only 'migrations bootstrap --force', which resets first)"
        : dbTimeout is not null && options.Database != DatabaseKind.Postgres ? "--db-timeout applies to database = postgres only"
        : dbTimeout is <= 0 ? "--db-timeout must be a positive number of seconds"
        : null;

    private static string DatabaseName(GatehouseOptions options) =>
        options.Database == DatabaseKind.Postgres ? options.Postgres.Database : options.EffectiveSqlitePath;

    /// <summary>Kong's reset: without --yes it needs a terminal to ask on, and asks only when there is something to erase.</summary>
    private static async Task<int> ResetAsync(MigrationCommands commands, Flags flags, CancellationToken ct)
    {
        if (!flags.Yes)
        {
            if (flags.Cli.Input is not { } input)
            {
                flags.Cli.Error.WriteLine("Error: not a tty: invoke 'reset' non-interactively with the --yes flag");
                return 1;
            }
            if (!flags.State.NeedsBootstrap && !Confirm(flags.Cli.Out, input, "Are you sure? This operation is irreversible."))
            {
                flags.Cli.Out.WriteLine("cancelled");
                return 0;
            }
        }
        return await commands.ResetAsync(ct);
    }

    /// <summary>Up to three tries at y/yes or n/no (Kong's confirm_prompt); anything else three times is a no.</summary>
    private static bool Confirm(TextWriter output, TextReader input, string question)
    {
        for (var i = 0; i < 3; i++)
        {
            output.Write($"> {question} [y/n] ");
            output.Flush();
            switch (input.ReadLine())
            {
                case "y" or "Y" or "yes" or "YES": return true;
                case "n" or "N" or "no" or "NO" or null: return false;
            }
        }
        return false;
    }
}
