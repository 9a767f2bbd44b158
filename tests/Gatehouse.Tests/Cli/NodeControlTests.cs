using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Cli;
using Gatehouse.Hosting;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Store;
using static Gatehouse.Tests.Cli.CliRun;

namespace Gatehouse.Tests.Cli;

/// <summary>Kong's node control on a real child process: the pid file, stop, quit, reload, restart, check, and the
/// node id kept under the prefix.</summary>
public sealed class NodeControlTests
{
    private static string Yml(EchoUpstream upstream, string path) => $"""
        _format_version: "3.0"
        services:
        - name: echo
          url: {upstream.BaseUri}
          routes:
          - name: r
            paths: ["{path}"]
            strip_path: false

        """;

    [Fact]
    public async Task Pid_file_refuses_a_second_start_and_stop_drains_and_removes_it()
    {
        using var temp = new TempDir();
        var dir = temp.Path;
        await using var node = await GatewayProcess.StartInAsync(dir, "database = off");
        var pidFile = Path.Combine(dir, "pids", "gatehouse.pid");
        Assert.Equal(node.Pid.ToString(), (await File.ReadAllTextAsync(pidFile)).Trim());

        var (startCode, _, startError) = await RunAsync("start", "-c", node.ConfPath);
        Assert.Equal(1, startCode);
        Assert.Contains($"Gatehouse is already running in {dir}", startError);
        Assert.False(node.HasExited);

        var (code, output, error) = await RunAsync("stop", "-p", dir);
        Assert.True(code == 0, error);
        Assert.Contains("Gatehouse stopped", output);
        await node.WaitForExitAsync();
        Assert.Equal(0, node.ExitCode);
        Assert.Contains("Gatehouse stopped", node.Output.ToString());
        Assert.False(File.Exists(pidFile));

        var (again, _, againError) = await RunAsync("stop", "-p", dir);
        Assert.Equal(1, again);
        Assert.Contains($"Gatehouse is not running in {dir}", againError);
    }

    [Fact]
    public async Task Quit_lets_the_request_in_flight_finish()
    {
        using var temp = new TempDir();
        var dir = temp.Path;
        await using var upstream = await EchoUpstream.StartAsync();
        var yml = Path.Combine(dir, "kong.yml");
        await File.WriteAllTextAsync(yml, Yml(upstream, "/delay"));
        await using var node = await GatewayProcess.StartInAsync(dir, $"database = off\ndeclarative_config = {yml}");
        using var client = new HttpClient { BaseAddress = node.ProxyUri };
        var inFlight = client.GetAsync("/delay/1500");
        while (upstream.RequestCount == 0 && !inFlight.IsCompleted) await Task.Delay(10); // until the upstream has it

        var (code, output, error) = await RunAsync("quit", "-p", dir, "--wait", "0", "--timeout", "30");
        Assert.True(code == 0, error);
        // the node's own output says where a shutdown that did not finish was (it failed once under a loaded suite)
        Assert.True(output.Contains("Gatehouse stopped (gracefully)"), $"quit: {output}\nnode:\n{node.Output}");
        using (var response = await inFlight) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await node.WaitForExitAsync();
        Assert.Equal(0, node.ExitCode);
        Assert.False(File.Exists(Path.Combine(dir, "pids", "gatehouse.pid")));
    }

    /// <summary>A node started as a background job of a script inherits SIGQUIT and SIGINT ignored (under nohup, SIGHUP):
    /// .NET leaves a signal ignored at start ignored, so quit timed out and killed such a node. The node takes back the
    /// signals the CLI controls it with (QUIT, HUP, TERM) and leaves SIGINT ignored, as a shell's background jobs expect.</summary>
    [Fact]
    public async Task A_node_that_inherited_its_control_signals_ignored_still_obeys_quit_and_reload()
    {
        using var temp = new TempDir();
        var dir = temp.Path;
        await using var node = await GatewayProcess.StartIgnoringAsync(dir, "database = off", "HUP INT QUIT TERM");
        var status = await File.ReadAllLinesAsync($"/proc/{node.Pid}/status");
        ulong Mask(string name) => Convert.ToUInt64(status.Single(l => l.StartsWith(name + ":", StringComparison.Ordinal)).Split(':')[1].Trim(), 16);
        static ulong Bit(int signal) => 1UL << (signal - 1);
        Assert.NotEqual(0UL, Mask("SigCgt") & Bit(1)); // HUP
        Assert.NotEqual(0UL, Mask("SigCgt") & Bit(3)); // QUIT
        Assert.NotEqual(0UL, Mask("SigCgt") & Bit(15)); // TERM
        Assert.NotEqual(0UL, Mask("SigIgn") & Bit(2)); // INT stays ignored

        var (reloadCode, _, reloadError) = await RunAsync("reload", "-p", dir);
        Assert.True(reloadCode == 0, reloadError);
        await Task.Delay(200);
        Assert.False(node.HasExited);
        var (code, output, error) = await RunAsync("quit", "-p", dir, "--timeout", "30");
        Assert.True(code == 0, error);
        Assert.True(output.Contains("Gatehouse stopped (gracefully)"), $"quit: {output}\nnode:\n{node.Output}");
        await node.WaitForExitAsync();
        Assert.Equal(0, node.ExitCode);
        Assert.Contains("stopping: draining in-flight requests", node.Output.ToString());
    }

    [Fact]
    public async Task Reload_loads_the_changed_declarative_config_in_the_running_node()
    {
        using var temp = new TempDir();
        var dir = temp.Path;
        await using var upstream = await EchoUpstream.StartAsync();
        var yml = Path.Combine(dir, "kong.yml");
        await File.WriteAllTextAsync(yml, Yml(upstream, "/before"));
        await using var node = await GatewayProcess.StartInAsync(dir, $"database = off\ndeclarative_config = {yml}");
        using var client = new HttpClient { BaseAddress = node.ProxyUri };
        using (var before = await client.GetAsync("/after")) Assert.Equal(HttpStatusCode.NotFound, before.StatusCode);

        await File.WriteAllTextAsync(yml, Yml(upstream, "/after"));
        var (code, output, error) = await RunAsync("reload", "-p", dir);
        Assert.True(code == 0, error);
        Assert.Contains("Gatehouse reloaded", output);
        var status = HttpStatusCode.NotFound;
        for (var i = 0; i < 600 && status != HttpStatusCode.OK; i++) // until the node has handled SIGHUP
        {
            using var after = await client.GetAsync("/after");
            status = after.StatusCode;
            if (status != HttpStatusCode.OK) await Task.Delay(50);
        }
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(node.HasExited);

        // an invalid file is refused: the node keeps serving the last good configuration
        await File.WriteAllTextAsync(yml, "_format_version: \"3.0\"\nservices:\n- name: [broken\n");
        Assert.Equal(0, (await RunAsync("reload", "-p", dir)).Code);
        using (var still = await client.GetAsync("/after")) Assert.Equal(HttpStatusCode.OK, still.StatusCode);
        Assert.False(node.HasExited);
    }

    [Fact]
    public async Task Node_id_is_kept_under_the_prefix_across_restarts_and_node_id_wins()
    {
        using var temp = new TempDir();
        var dir = temp.Path;
        Guid first;
        await using (var node = await GatewayProcess.StartInAsync(dir, "database = off", admin: true))
        {
            first = await NodeIdAsync(node);
            Assert.Equal(first.ToString(), (await File.ReadAllTextAsync(Path.Combine(dir, "gatehouse.id"))).Trim());
            Assert.Equal(0, (await RunAsync("stop", "-p", dir)).Code);
            await node.WaitForExitAsync();
        }
        await using (var node = await GatewayProcess.StartInAsync(dir, "database = off", admin: true))
        {
            Assert.Equal(first, await NodeIdAsync(node));
            Assert.Equal(0, (await RunAsync("stop", "-p", dir)).Code);
            await node.WaitForExitAsync();
        }
        var chosen = Guid.NewGuid();
        await using (var node = await GatewayProcess.StartInAsync(dir, $"database = off\nnode_id = {chosen}", admin: true))
            Assert.Equal(chosen, await NodeIdAsync(node));
    }

    private static async Task<Guid> NodeIdAsync(GatewayProcess node)
    {
        using var client = new HttpClient { BaseAddress = node.AdminUri };
        var root = JsonNode.Parse(await client.GetStringAsync("/"))!;
        return Guid.Parse((string)root["node_id"]!);
    }

    [Fact]
    public async Task Restart_stops_the_running_node_and_starts_one_here()
    {
        using var temp = new TempDir();
        var dir = temp.Path;
        await using var node = await GatewayProcess.StartInAsync(dir, "database = off");
        var started = new TaskCompletionSource<GatewayHost>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var output = new SyncWriter();
        var error = new SyncWriter();
        var restart = GatehouseCli.InvokeAsync(["restart", "-c", node.ConfPath], new CliContext(output, error, NoEnv)
        {
            OnStarted = host => started.TrySetResult(host),
        }, stop.Token);
        await Task.WhenAny(started.Task, restart);
        Assert.True(started.Task.IsCompletedSuccessfully, error.ToString());
        Assert.True(node.HasExited);
        Assert.Equal(0, node.ExitCode);
        var pidFile = Path.Combine(dir, "pids", "gatehouse.pid");
        Assert.Equal(Environment.ProcessId.ToString(), (await File.ReadAllTextAsync(pidFile)).Trim());
        using (var client = new HttpClient { BaseAddress = node.ProxyUri })
        using (var response = await client.GetAsync("/x"))
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode); // the new node answers on the same port

        await stop.CancelAsync();
        Assert.Equal(0, await restart);
        Assert.False(File.Exists(pidFile));
    }

    [Fact]
    public async Task Check_says_whether_a_conf_file_is_valid()
    {
        using var temp = new TempDir();
        var dir = temp.Path;
        var good = Path.Combine(dir, "good.conf");
        await File.WriteAllTextAsync(good, $"prefix = {dir}\nlog_level = warn\nplugins = bundled\n");
        var (code, output, _) = await RunAsync("check", good);
        Assert.Equal(0, code);
        Assert.Equal($"configuration at {good} is valid", output.Trim());

        var bad = Path.Combine(dir, "bad.conf");
        await File.WriteAllTextAsync(bad, $"prefix = {dir}\nlog_level = chatty\nnode_id = nope\n");
        var (badCode, badOutput, badError) = await RunAsync("check", bad);
        Assert.Equal(1, badCode);
        Assert.DoesNotContain("is valid", badOutput);
        Assert.Contains("error: log_level: 'chatty' is not a log level", badError);
        Assert.Contains("error: node_id: 'nope' is not a valid UUID", badError);
    }
}
