using BenchmarkDotNet.Running;

namespace ProxyWasm.Bench;

/// <summary>Entry point: <c>dotnet run -c Release --project bench/ProxyWasm.Bench -- --filter '*'</c>.</summary>
internal static class Program
{
    private static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
