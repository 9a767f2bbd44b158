using Gatehouse.Cli;
using Gatehouse.Hosting;
using Gatehouse.Proxy;
using Gatehouse.Tests.Cli;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary><c>gatehouse start --example</c> and wasm start failures, through the real CLI in-process.</summary>
public sealed class ExampleStartTests
{
    private static readonly Dictionary<string, string?> NoEnv = new();

    [Fact]
    public async Task Example_runs_the_demo_route_through_the_filter_chain()
    {
        var dir = Directory.CreateTempSubdirectory("gatehouse-example-").FullName;
        var conf = Path.Combine(dir, "gatehouse.conf");
        // Listeners on port 0 (the shipped kong.yml points /demo at 127.0.0.1:8001, the default admin port; whatever
        // answers there, the chain's response headers are added, also to a 502).
        File.WriteAllText(conf, $"prefix = {dir}\nproxy_listen = 127.0.0.1:0\nadmin_listen = 127.0.0.1:0\nadmin_gui_listen = off\nproxy_access_log = off\nlog_level = error\n");
        var started = new TaskCompletionSource<GatewayHost>(TaskCreationOptions.RunContinuationsAsynchronously);
        var cli = new CliContext(new SyncWriter(), new SyncWriter(), NoEnv) { OnStarted = h => started.SetResult(h) };
        using var stop = new CancellationTokenSource();
        var run = GatehouseCli.InvokeAsync(["start", "--example", "-c", conf], cli, stop.Token);
        var host = await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        using (var client = new HttpClient { BaseAddress = host.Addresses(ListenerKind.Proxy).Single() })
        {
            using var first = await client.GetAsync("/demo");
            using var second = await client.GetAsync("/demo");
            Assert.Equal("served through a Proxy-Wasm filter chain", string.Join(",", first.Headers.GetValues("x-demo")));
            Assert.Equal("1", string.Join(",", first.Headers.GetValues("x-request-count")));
            Assert.Equal("2", string.Join(",", second.Headers.GetValues("x-request-count")));
        }
        stop.Cancel();
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task Bad_filter_metadata_stops_the_start_with_exit_1()
    {
        var dir = Directory.CreateTempSubdirectory("gatehouse-badmeta-").FullName;
        File.Copy(Path.Combine(WasmPaths.Examples, "add-headers.wasm"), Path.Combine(dir, "f.wasm"));
        File.WriteAllText(Path.Combine(dir, "f.meta.json"), "oops!");
        var conf = Path.Combine(dir, "gatehouse.conf");
        File.WriteAllText(conf, $"prefix = {dir}\nproxy_listen = 127.0.0.1:0\nadmin_listen = off\ndatabase = off\nwasm = on\nwasm_filters_path = {dir}\n");
        var error = new SyncWriter();
        var code = await GatehouseCli.InvokeAsync(["start", "-c", conf], new CliContext(new SyncWriter(), error, NoEnv));
        Assert.Equal(1, code);
        Assert.Contains("Failed to load metadata for one or more filters:", error.ToString());
        Assert.Contains("JSON decode error", error.ToString());
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task Corrupt_filter_module_stops_the_start_naming_the_file()
    {
        var dir = Directory.CreateTempSubdirectory("gatehouse-badwasm-").FullName;
        File.WriteAllText(Path.Combine(dir, "broken.wasm"), "this is not WebAssembly");
        var conf = Path.Combine(dir, "gatehouse.conf");
        File.WriteAllText(conf, $"prefix = {dir}\nproxy_listen = 127.0.0.1:0\nadmin_listen = off\ndatabase = off\nwasm = on\nwasm_filters_path = {dir}\n");
        var error = new SyncWriter();
        var code = await GatehouseCli.InvokeAsync(["start", "-c", conf], new CliContext(new SyncWriter(), error, NoEnv));
        Assert.Equal(1, code);
        Assert.Contains("broken", error.ToString());
        Directory.Delete(dir, true);
    }
}
