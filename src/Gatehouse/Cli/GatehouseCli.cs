using System.CommandLine;
using Gatehouse.Hosting;
using Gatehouse.Store;

namespace Gatehouse.Cli;

/// <summary>
/// The <c>gatehouse</c> command line (System.CommandLine 2.0): start, config parse|init, migrations up, health,
/// version. <see cref="InvokeAsync"/> is what Main calls and what tests call with captured writers.
/// </summary>
public static class GatehouseCli
{
    public static RootCommand CreateRootCommand(CliContext cli)
    {
        ArgumentNullException.ThrowIfNull(cli);
        return new RootCommand("Gatehouse: a Kong-compatible API gateway with Proxy-Wasm filters")
        {
            StartCommand.Create(cli),
            Config(cli),
            Migrations(cli),
            HealthCommand.Create(cli),
            Version(cli),
        };
    }

    /// <summary>Parses and runs; returns the exit code. Signal handling is the start command's own.</summary>
    public static Task<int> InvokeAsync(string[] args, CliContext cli, CancellationToken cancellationToken = default)
    {
        var parse = CreateRootCommand(cli).Parse(args);
        return parse.InvokeAsync(new InvocationConfiguration
        {
            Output = cli.Out,
            Error = cli.Error,
            ProcessTerminationTimeout = null,
        }, cancellationToken);
    }

    private static Command Config(CliContext cli)
    {
        var parseFile = new Argument<string>("file") { Description = "Declarative configuration (kong.yml) to validate" };
        var parse = new Command("parse", "Validate a declarative configuration file") { parseFile };
        parse.SetAction(p => StoreCommands.ParseDeclarative(p.GetValue(parseFile)!, GatehouseEntities.Default, cli.Out, cli.Error));
        var initFile = new Argument<string?>("file") { Description = "Where to write (default ./kong.yml)", Arity = ArgumentArity.ZeroOrOne };
        var init = new Command("init", "Write an example declarative configuration") { initFile };
        init.SetAction(p => StoreCommands.InitDeclarative(p.GetValue(initFile) ?? "kong.yml", cli.Out, cli.Error));
        return new Command("config", "Declarative configuration tools") { parse, init };
    }

    private static Command Migrations(CliContext cli)
    {
        var conf = ConfOptions.Conf();
        var up = new Command("up", "Create or upgrade the database schema") { conf };
        up.SetAction(async (p, ct) =>
        {
            var options = ConfOptions.Load(cli, p.GetValue(conf), null);
            return options is null ? 1 : await StoreCommands.MigrateUpAsync(options, GatehouseEntities.Default, cli.Out, cli.Error);
        });
        return new Command("migrations", "Database schema management") { up };
    }

    private static Command Version(CliContext cli)
    {
        var version = new Command("version", "Print the version");
        version.SetAction(_ =>
        {
            cli.Out.WriteLine($"Gatehouse {GatehouseVersion.Current}");
            return 0;
        });
        return version;
    }
}
