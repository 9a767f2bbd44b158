using System.CommandLine;
using Gatehouse.Hosting;

namespace Gatehouse.Cli;

/// <summary>
/// The <c>gatehouse</c> command line (System.CommandLine 2.0): start, stop, quit, reload, restart, check,
/// config parse|init|db_import|db_export, migrations bootstrap|up|finish|list|reset|status, health, version. <see cref="InvokeAsync"/> is what Main calls and what tests call with captured writers.
/// </summary>
public static class GatehouseCli
{
    public static RootCommand CreateRootCommand(CliContext cli)
    {
        ArgumentNullException.ThrowIfNull(cli);
        var root = new RootCommand("Gatehouse: a Kong-compatible API gateway with Proxy-Wasm filters")
        {
            StartCommand.Create(cli),
            NodeControlCommands.Stop(cli),
            NodeControlCommands.Quit(cli),
            NodeControlCommands.Reload(cli),
            NodeControlCommands.Restart(cli),
            NodeControlCommands.Check(cli),
            ConfigCommand.Create(cli),
            MigrationsCommand.Create(cli),
            HealthCommand.Create(cli),
            Version(cli),
        };
        // --version prints what `version` prints (the built-in one reads the assembly's informational version itself)
        foreach (var option in root.Options.OfType<VersionOption>()) option.Action = new PrintVersion(cli);
        return root;
    }

    private sealed class PrintVersion(CliContext cli) : System.CommandLine.Invocation.SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            cli.Out.WriteLine($"Gatehouse {GatehouseVersion.Current}");
            return 0;
        }
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
