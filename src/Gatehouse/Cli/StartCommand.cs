using System.CommandLine;
using System.Runtime.InteropServices;
using Gatehouse.Hosting;
using Gatehouse.Proxy;

namespace Gatehouse.Cli;

/// <summary><c>gatehouse start [-c CONF] [-p PREFIX] [--run-migrations]</c>: runs the gateway until SIGTERM/SIGQUIT/SIGINT (or the
/// invocation is cancelled), then drains in-flight requests and exits 0; SIGHUP reloads (<see cref="GatewayReloader"/>).
/// A bad configuration, or a live node already holding the prefix's pid file, exits 1 before listening. Writes
/// <c>&lt;prefix&gt;/pids/gatehouse.pid</c> (removed at a clean exit) and keeps the node id in <c>&lt;prefix&gt;/gatehouse.id</c>.</summary>
internal static class StartCommand
{
    public static Command Create(CliContext cli)
    {
        var conf = ConfOptions.Conf();
        var prefix = ConfOptions.Prefix();
        var example = new Option<bool>("--example") { Description = "Run the shipped DB-less example (route /demo with a Wasm filter chain)" };
        var runMigrations = new Option<bool>("--run-migrations")
        {
            Description = "database = postgres: run any new migrations (bootstrap an empty database) before starting; " +
                "without it a database that is not up to date stops the start (Kong's start)",
        };
        var command = new Command("start", "Start the gateway (proxy, Admin API and status listeners)") { conf, prefix, example, runMigrations };
        command.SetAction((parse, ct) => RunAsync(cli, parse.GetValue(conf), parse.GetValue(prefix), parse.GetValue(example), ct,
            parse.GetValue(runMigrations)));
        return command;
    }

    internal static async Task<int> RunAsync(CliContext cli, string? confPath, string? prefix, bool example, CancellationToken ct,
        bool runMigrations = false)
    {
        var options = Load(cli, confPath, prefix, example);
        if (options is null) return 1;
        try { Directory.CreateDirectory(options.Prefix); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            cli.Error.WriteLine($"error: prefix: cannot create '{options.Prefix}': {e.Message}");
            return 1;
        }
        PidFile pidFile;
        try { pidFile = PidFile.Acquire(options.Prefix); }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            cli.Error.WriteLine($"Error: {e.Message}");
            return 1;
        }
        using var pid = pidFile;
        InlineIo.ApplyToProcess(options);
        if (options.NodeId is null)
        {
            options = options with { NodeId = NodeIdFile.Resolve(options.Prefix, out var warning) };
            if (warning is not null) cli.Error.WriteLine($"warning: {warning}, a new node_id was generated");
        }
        else cli.Error.WriteLine("warning: node_id: specifying a node_id is deprecated in Kong 3.9; it must be unique across the cluster");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        ProcessSignals.UnignoreControlSignals();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var sigquit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Stop);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        GatewayHost? host = null;
        try
        {
            host = GatewayHost.Create(options, new GatewayHostOptions { RunMigrations = runMigrations });
            await host.StartAsync(ct);
        }
        catch (Exception e) when (IsStartFailure(e))
        {
            cli.Error.WriteLine($"error: cannot start: {e.Message}");
            if (host is not null) await host.DisposeAsync();
            return 1;
        }
        await using var running = host;
        foreach (var kind in Enum.GetValues<ListenerKind>())
            foreach (var address in host.Addresses(kind))
                cli.Out.WriteLine($"{kind.ToString().ToLowerInvariant()} listening on {address}");
        cli.Out.WriteLine($"Gatehouse {GatehouseVersion.Current} started");
        cli.OnStarted?.Invoke(host);
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Reload);
        try { await Task.Delay(Timeout.Infinite, stop.Token); }
        catch (OperationCanceledException) { }
        cli.Out.WriteLine("stopping: draining in-flight requests");
        await host.StopAsync(CancellationToken.None);
        cli.Out.WriteLine("Gatehouse stopped");
        return 0;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        void Reload(PosixSignalContext context)
        {
            context.Cancel = true;
            // the conf file this node started with, read again with the environment (a bad one is reported and not applied)
            if (Load(cli, confPath, prefix, example) is { } fresh) _ = host.ReloadAsync(fresh, stop.Token);
        }
    }

    private static Config.GatehouseOptions? Load(CliContext cli, string? confPath, string? prefix, bool example)
    {
        var options = ConfOptions.Load(cli, confPath, prefix);
        return options is not null && example ? Defaults.ExampleConfig.Apply(options) : options;
    }

    /// <summary>Failures that mean "this configuration cannot start" (bad filters, ports, files, certificates, a database
    /// that cannot be reached or is not migrated),
    /// reported as one line and exit code 1; anything else is a bug and propagates.</summary>
    private static bool IsStartFailure(Exception e) =>
        e is Wasm.WasmStartupException or IOException or UnauthorizedAccessException or InvalidOperationException
            or System.Security.Cryptography.CryptographicException or System.Data.Common.DbException or TimeoutException;
}
