using System.Diagnostics;
using System.Net;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Cli;

/// <summary>The real executable: SIGTERM while a request is in flight lets it finish, then the process exits 0.</summary>
public sealed class SignalTests
{
    [Fact]
    public async Task SigtermDrainsThenExitsZero()
    {
        var dir = Directory.CreateTempSubdirectory("gatehouse-sig-").FullName;
        var proxyPort = EchoUpstream.FreePort();
        var conf = Path.Combine(dir, "gatehouse.conf");
        await File.WriteAllTextAsync(conf, $"prefix = {dir}\nproxy_listen = 127.0.0.1:{proxyPort}\nadmin_listen = off\ndatabase = off\nproxy_access_log = off\nlog_level = error\n");
        var exe = Path.Combine(AppContext.BaseDirectory, "gatehouse.dll");
        var output = new SyncWriter();
        var error = new SyncWriter();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = new Process
        {
            StartInfo = new ProcessStartInfo("dotnet", [exe, "start", "-c", conf])
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
        process.ErrorDataReceived += (_, e) => error.WriteLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await started.Task.WaitAsync(TimeSpan.FromSeconds(60));

            // no store here (database = off, nothing declared): the 404 proves the proxy listener answers
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{proxyPort}") };
            using (var response = await client.GetAsync("/x")) Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);

            Assert.Equal(0, Kill(process.Id, "TERM"));
            var exited = process.WaitForExitAsync();
            await exited.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, process.ExitCode);
            Assert.Contains("Gatehouse stopped", output.ToString());
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }
    }

    private static int Kill(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString()])!;
        kill.WaitForExit();
        return kill.ExitCode;
    }
}
