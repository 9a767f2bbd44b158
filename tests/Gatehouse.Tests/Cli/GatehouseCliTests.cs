using System.Net;
using Gatehouse.Cli;
using Gatehouse.Hosting;
using Gatehouse.Proxy;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Cli.CliRun;

namespace Gatehouse.Tests.Cli;

/// <summary>The CLI run in-process with captured writers and a controlled environment.</summary>
public sealed class GatehouseCliTests
{
    private static string WriteConf(string text)
    {
        var dir = Directory.CreateTempSubdirectory("gatehouse-cli-").FullName;
        var path = Path.Combine(dir, "gatehouse.conf");
        File.WriteAllText(path, text.Replace("{dir}", dir, StringComparison.Ordinal));
        return path;
    }

    [Fact]
    public async Task VersionPrintsTheAssemblyVersion()
    {
        var (code, output, _) = await RunAsync("version");
        Assert.Equal(0, code);
        Assert.Equal($"Gatehouse {GatehouseVersion.Current}", output.Trim());
        // --version reads the same source
        var (optionCode, optionOutput, _) = await RunAsync("--version");
        Assert.Equal(0, optionCode);
        Assert.Equal($"Gatehouse {GatehouseVersion.Current}", optionOutput.Trim());
    }

    [Fact]
    public async Task StartWithABadValueFailsNamingTheKey()
    {
        var conf = WriteConf("prefix = {dir}\nlog_level = chatty\n");
        var (code, _, error) = await RunAsync("start", "-c", conf);
        Assert.Equal(1, code);
        Assert.Contains("error: log_level: 'chatty' is not a log level", error);
    }

    [Fact]
    public async Task StartWithAnUnreachablePostgresFailsNamingTheServer()
    {
        var port = Infrastructure.EchoUpstream.ClosedPort();
        var conf = WriteConf($"prefix = {{dir}}\nproxy_listen = 127.0.0.1:0\nadmin_listen = off\ndatabase = postgres\npg_port = {port}\n");
        var (code, _, error) = await RunAsync("start", "--conf", conf);
        Assert.Equal(1, code);
        Assert.Contains($"error: cannot start: cannot use the PostgreSQL server at 127.0.0.1:{port}/kong", error);
    }

    [Fact]
    public async Task StartWithAnUnwritableAccessLogFails()
    {
        var conf = WriteConf("prefix = {dir}\nproxy_listen = 127.0.0.1:0\nadmin_listen = off\ndatabase = off\nproxy_access_log = {dir}/missing/dir/access.log\n");
        var (code, _, error) = await RunAsync("start", "-c", conf);
        Assert.Equal(1, code);
        Assert.Contains("error: cannot start:", error);
    }

    [Fact]
    public async Task UnknownCommandIsAnError()
    {
        var (code, _, error) = await RunAsync("frobnicate");
        Assert.NotEqual(0, code);
        Assert.NotEmpty(error);
    }

    [Fact]
    public async Task StartServesUntilCancelledThenExitsZero()
    {
        var conf = WriteConf("prefix = {dir}\nproxy_listen = 127.0.0.1:0\nadmin_listen = off\ndatabase = off\nproxy_access_log = off\nlog_level = error\n");
        var output = new SyncWriter();
        var started = new TaskCompletionSource<GatewayHost>(TaskCreationOptions.RunContinuationsAsynchronously);
        var cli = new CliContext(output, new SyncWriter(), NoEnv) { OnStarted = h => started.SetResult(h) };
        using var stop = new CancellationTokenSource();
        var prefix = Path.Combine(Path.GetDirectoryName(conf)!, "from-command-line");
        var run = GatehouseCli.InvokeAsync(["start", "-c", conf, "-p", prefix], cli, stop.Token);

        var host = await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(prefix, host.Options.Prefix);
        Assert.True(Directory.Exists(prefix));
        using (var client = new HttpClient { BaseAddress = host.Addresses(ListenerKind.Proxy).Single() })
        using (var response = await client.GetAsync("/anything"))
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        stop.Cancel();

        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("proxy listening on http://127.0.0.1:", output.ToString());
        Assert.Contains("Gatehouse stopped", output.ToString());
    }

    [Fact]
    public async Task HealthAsksStatusOfARunningNode()
    {
        var port = EchoUpstream.FreePort();
        var conf = WriteConf($"prefix = {{dir}}\nadmin_listen = off\nstatus_listen = 127.0.0.1:{port}\n");
        var (downCode, _, downError) = await RunAsync("health", "-c", conf);
        Assert.Equal(1, downCode);
        Assert.Contains("not running", downError);

        await using (var gateway = await GatewayFixture.StartAsync(configure: o => o with
        {
            StatusListen = [Gatehouse.Config.ListenAddress.Parse($"127.0.0.1:{port}")],
        }))
        {
            var (code, output, _) = await RunAsync("health", "-c", conf);
            Assert.Equal(0, code);
            Assert.Contains($"healthy at http://127.0.0.1:{port}/status", output);
        }
    }

    [Fact]
    public async Task StoreCommandsAreWired()
    {
        // the store/admin work owns what these do; here only that the CLI reaches them and returns their code
        var (parseCode, _, _) = await RunAsync("config", "parse", "/no/such/kong.yml");
        Assert.NotEqual(0, parseCode);
        var (missingArg, _, missingError) = await RunAsync("config", "parse");
        Assert.NotEqual(0, missingArg);
        Assert.NotEmpty(missingError);
    }
}
