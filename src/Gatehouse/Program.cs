using Gatehouse.Cli;

namespace Gatehouse;

public static class Program
{
    /// <summary>Runs the CLI; the exit code is the command's.</summary>
    public static Task<int> Main(string[] args) => GatehouseCli.InvokeAsync(args,
        new CliContext(Console.Out, Console.Error) { Input = Console.IsInputRedirected ? null : Console.In });
}
