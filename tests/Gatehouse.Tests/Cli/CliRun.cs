using Gatehouse.Cli;

namespace Gatehouse.Tests.Cli;

/// <summary>The CLI run in-process with captured writers and a controlled environment (none unless given).</summary>
internal static class CliRun
{
    public static readonly IReadOnlyDictionary<string, string?> NoEnv = new Dictionary<string, string?>();

    public static Task<(int Code, string Out, string Err)> RunAsync(params string[] args) => RunAsync(NoEnv, args);

    public static async Task<(int Code, string Out, string Err)> RunAsync(IReadOnlyDictionary<string, string?> env, params string[] args)
    {
        var output = new SyncWriter();
        var error = new SyncWriter();
        var code = await GatehouseCli.InvokeAsync(args, new CliContext(output, error, env));
        return (code, output.ToString(), error.ToString());
    }
}
