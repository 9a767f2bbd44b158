using Gatehouse.Hosting;
using Gatehouse.Tests.Infrastructure;
using Xunit;

namespace Gatehouse.Tests.Hosting;

/// <summary>
/// Issue #16 goal 4: <c>start</c> runs with a 4 MiB gen0 budget (<see cref="GcBudget"/>): it re-executes itself with
/// <c>DOTNET_GCgen0size</c> set, keeping its pid and arguments, and keeps an operator's own value. Runs the real
/// executable: the variable only matters in the environment the runtime starts with (/proc/PID/environ).
/// </summary>
public sealed class GcBudgetTests
{
    private static string Yml(int port) => $"""
        _format_version: "3.0"
        services:
          - name: echo
            url: http://127.0.0.1:{port}
            routes:
              - name: r
                paths: ["/"]
        """;

    private static string[] Environ(int pid) => File.ReadAllText($"/proc/{pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task Start_runs_with_a_4_MiB_gen0_budget_in_the_same_process_and_serves()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await GatewayProcess.StartDbLessAsync(Yml(upstream.Port));

        Assert.Contains($"{GcBudget.Variable}=0x400000", Environ(gateway.Pid));
        // the same process (the pid its parent started, the one in the pid file), started with the same arguments
        Assert.Equal(gateway.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture),
            (await File.ReadAllTextAsync(Path.Combine(gateway.Dir, "pids", "gatehouse.pid"))).Trim());
        Assert.Contains(gateway.ConfPath, await File.ReadAllTextAsync($"/proc/{gateway.Pid}/cmdline"));
        using var client = new HttpClient();
        var response = await client.GetAsync(new Uri(gateway.ProxyUri, "/x"));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task An_operators_own_value_is_kept()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await GatewayProcess.StartDbLessAsync(Yml(upstream.Port),
            environment: new Dictionary<string, string> { [GcBudget.Variable] = "0" });

        var environ = Environ(gateway.Pid);
        Assert.Contains($"{GcBudget.Variable}=0", environ);
        Assert.DoesNotContain($"{GcBudget.Variable}=0x400000", environ);
    }
}
