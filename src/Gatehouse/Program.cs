using Gatehouse.Cli;

namespace Gatehouse;

public static class Program
{
    /// <summary>Runs the CLI; the exit code is the command's.</summary>
    public static Task<int> Main(string[] args)
    {
        Hosting.GcBudget.ApplyByReexec(args); // start: first of all, before the runtime has done any work worth keeping
        return GatehouseCli.InvokeAsync(args, new CliContext(Console.Out, Console.Error) { Input = Console.IsInputRedirected ? null : Console.In });
    }
}
