using System.Diagnostics;
using Gatehouse.Tests.Cli;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Reliability;

/// <summary>
/// The real executable (<c>gatehouse start</c>) on loopback, DB-less from a kong.yml: unlike the in-process host it
/// runs with the process-wide settings <c>start</c> applies (inline_io's socket event threads), which is what the
/// thread-isolation tests need.
/// </summary>
internal sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    private GatewayProcess(Process process, string dir, int proxyPort, SyncWriter output)
    {
        _process = process;
        _dir = dir;
        ProxyUri = new Uri($"http://127.0.0.1:{proxyPort}");
        Output = output;
    }

    public Uri ProxyUri { get; }
    public SyncWriter Output { get; }

    /// <param name="kongYml">the declarative configuration</param>
    /// <param name="filtersDir">wasm_filters_path</param>
    public static async Task<GatewayProcess> StartAsync(string kongYml, string filtersDir)
    {
        var dir = Directory.CreateTempSubdirectory("gatehouse-proc-").FullName;
        var proxyPort = EchoUpstream.ClosedPort();
        await File.WriteAllTextAsync(Path.Combine(dir, "kong.yml"), kongYml);
        var conf = Path.Combine(dir, "gatehouse.conf");
        await File.WriteAllTextAsync(conf, $"""
            prefix = {dir}
            proxy_listen = 127.0.0.1:{proxyPort}
            admin_listen = off
            database = off
            declarative_config = {Path.Combine(dir, "kong.yml")}
            proxy_access_log = off
            log_level = error
            wasm = on
            wasm_filters_path = {filtersDir}

            """);
        var output = new SyncWriter();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process
        {
            StartInfo = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "gatehouse.dll"), "start", "-c", conf])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            },
        };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            output.WriteLine(e.Data);
            if (e.Data.Contains("started", StringComparison.Ordinal)) started.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) => output.WriteLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var gateway = new GatewayProcess(process, dir, proxyPort, output);
        try
        {
            await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
        return gateway;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
