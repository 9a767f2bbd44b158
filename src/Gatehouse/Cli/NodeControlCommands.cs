using System.CommandLine;
using Gatehouse.Hosting;

namespace Gatehouse.Cli;

/// <summary>
/// Kong's node control commands, on top of the pid file (<c>&lt;prefix&gt;/pids/gatehouse.pid</c>) and signals:
/// <c>stop</c> (SIGTERM), <c>quit</c> (SIGQUIT after <c>--wait</c>), <c>reload</c> (SIGHUP), <c>restart</c> and
/// <c>check</c>. The node drains in-flight requests on SIGTERM and SIGQUIT alike; stop and quit wait for it to exit
/// and kill it (SIGKILL) after their timeout, as Kong's quit does.
/// </summary>
internal static class NodeControlCommands
{
    public static Command Stop(CliContext cli)
    {
        var conf = ConfOptions.Conf();
        var prefix = ConfOptions.Prefix();
        var timeout = new Option<int>("--timeout", "-t")
        {
            Description = "Seconds to wait for in-flight requests to finish before the node is killed",
            DefaultValueFactory = _ => 60,
        };
        var command = new Command("stop", "Stop the node running in the prefix: it stops accepting, lets in-flight requests finish, " +
            "then exits (SIGTERM); killed after --timeout") { conf, prefix, timeout };
        command.SetAction((p, ct) =>
        {
            var options = ConfOptions.Load(cli, p.GetValue(conf), p.GetValue(prefix));
            return options is null ? Task.FromResult(1) : SignalAndWaitAsync(cli, options.Prefix, ProcessSignals.Term, TimeSpan.Zero,
                TimeSpan.FromSeconds(Math.Max(p.GetValue(timeout), 1)), "Gatehouse stopped", ct);
        });
        return command;
    }

    public static Command Quit(CliContext cli)
    {
        var conf = ConfOptions.Conf();
        var prefix = ConfOptions.Prefix();
        var timeout = new Option<int>("--timeout", "-t") { Description = "Timeout before forced shutdown (seconds, at least 1)", DefaultValueFactory = _ => 10 };
        var wait = new Option<int>("--wait", "-w") { Description = "Wait time before initiating the shutdown (seconds)", DefaultValueFactory = _ => 0 };
        var command = new Command("quit", "Gracefully quit the node running in the prefix (SIGQUIT): in-flight requests finish; " +
            "if the timeout is reached, the node is killed") { conf, prefix, timeout, wait };
        command.SetAction((p, ct) =>
        {
            var options = ConfOptions.Load(cli, p.GetValue(conf), p.GetValue(prefix));
            return options is null ? Task.FromResult(1) : SignalAndWaitAsync(cli, options.Prefix, ProcessSignals.Quit,
                TimeSpan.FromSeconds(Math.Max(p.GetValue(wait), 0)), TimeSpan.FromSeconds(Math.Max(p.GetValue(timeout), 1)),
                "Gatehouse stopped (gracefully)", ct);
        });
        return command;
    }

    public static Command Reload(CliContext cli)
    {
        var conf = ConfOptions.Conf();
        var prefix = ConfOptions.Prefix();
        var command = new Command("reload", "Reload the node running in the prefix (SIGHUP). The node re-reads the conf file it was " +
            "started with and the environment: DB-less it loads declarative_config again (an invalid file is refused and the " +
            "running configuration kept), on SQLite it rebuilds the configuration from the database. Other changed keys " +
            "(listeners, plugins, wasm, log_level...) are not applied in a running node: the node logs them; use restart. " +
            "-c is checked before the signal is sent and names the prefix") { conf, prefix };
        command.SetAction(p =>
        {
            var options = ConfOptions.Load(cli, p.GetValue(conf), p.GetValue(prefix));
            if (options is null) return 1;
            if (PidFile.RunningPid(options.Prefix) is not { } pid) return NotRunning(cli, options.Prefix);
            if (!ProcessSignals.Send(pid, ProcessSignals.Hup)) return NotRunning(cli, options.Prefix);
            cli.Out.WriteLine("Gatehouse reloaded");
            return 0;
        });
        return command;
    }

    public static Command Restart(CliContext cli)
    {
        var conf = ConfOptions.Conf();
        var prefix = ConfOptions.Prefix();
        var timeout = new Option<int>("--timeout", "-t")
        {
            Description = "Seconds to wait for the running node to stop before it is killed",
            DefaultValueFactory = _ => 60,
        };
        var runMigrations = new Option<bool>("--run-migrations") { Description = "As start's: run any new migrations before starting (database = postgres)" };
        var command = new Command("restart", "Stop the node running in the prefix (as stop), then start one in this process " +
            "(as start)") { conf, prefix, timeout, runMigrations };
        command.SetAction(async (p, ct) =>
        {
            var options = ConfOptions.Load(cli, p.GetValue(conf), p.GetValue(prefix));
            if (options is null) return 1;
            if (PidFile.RunningPid(options.Prefix) is not null)
                await SignalAndWaitAsync(cli, options.Prefix, ProcessSignals.Term, TimeSpan.Zero,
                    TimeSpan.FromSeconds(Math.Max(p.GetValue(timeout), 1)), "Gatehouse stopped", ct);
            return await StartCommand.RunAsync(cli, p.GetValue(conf), p.GetValue(prefix), example: false, ct, p.GetValue(runMigrations));
        });
        return command;
    }

    public static Command Check(CliContext cli)
    {
        var file = new Argument<string>("conf") { Description = "Configuration file (gatehouse.conf, kong.conf syntax) to validate" };
        var command = new Command("check", "Check the validity of a configuration file (with the GATEHOUSE_*/KONG_* environment)") { file };
        command.SetAction(p =>
        {
            var path = p.GetValue(file)!;
            if (ConfOptions.Load(cli, path, null) is null) return 1;
            cli.Out.WriteLine($"configuration at {path} is valid");
            return 0;
        });
        return command;
    }

    private static int NotRunning(CliContext cli, string prefix)
    {
        cli.Error.WriteLine($"Error: Gatehouse is not running in {prefix}");
        return 1;
    }

    /// <summary>Sends <paramref name="signal"/> after <paramref name="wait"/>, then waits for the process to exit;
    /// after <paramref name="timeout"/> it is killed (SIGKILL) and its pid file removed.</summary>
    private static async Task<int> SignalAndWaitAsync(CliContext cli, string prefix, int signal, TimeSpan wait, TimeSpan timeout,
        string done, CancellationToken ct)
    {
        if (PidFile.RunningPid(prefix) is not { } pid) return NotRunning(cli, prefix);
        if (wait > TimeSpan.Zero)
        {
            if (await ExitedWithinAsync(pid, wait, ct))
            {
                cli.Error.WriteLine("Error: Gatehouse stopped while waiting (unexpected)");
                return 1;
            }
        }
        if (!ProcessSignals.Send(pid, signal)) return NotRunning(cli, prefix);
        if (!await ExitedWithinAsync(pid, timeout, ct))
        {
            ProcessSignals.Send(pid, ProcessSignals.Kill);
            await ExitedWithinAsync(pid, TimeSpan.FromSeconds(5), ct);
            try { File.Delete(PidFile.PathIn(prefix)); } catch (IOException) { }
            cli.Out.WriteLine("Timeout, Gatehouse stopped forcefully");
            return 0;
        }
        cli.Out.WriteLine(done);
        return 0;
    }

    /// <summary>Polls, as Kong's CLI does: the node is another process (not a child), nothing notifies its exit.</summary>
    private static async Task<bool> ExitedWithinAsync(int pid, TimeSpan limit, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + limit;
        while (PidFile.IsRunning(pid))
        {
            if (DateTime.UtcNow >= deadline) return false;
            await Task.Delay(TimeSpan.FromMilliseconds(100), ct);
        }
        return true;
    }
}
