namespace Gatehouse.Cli;

/// <summary>What a command writes to and reads from, so the CLI runs in-process in tests with captured writers
/// and a controlled environment.</summary>
public sealed record CliContext(TextWriter Out, TextWriter Error, IReadOnlyDictionary<string, string?>? Environment = null)
{
    /// <summary>Called by <c>start</c> once the gateway listens (tests use it to reach the running host).</summary>
    public Action<Hosting.GatewayHost>? OnStarted { get; init; }

    /// <summary>Where prompts read answers (<c>migrations reset</c>); null when the run is not interactive (no
    /// terminal on stdin), and a command that needs confirming then asks for <c>--yes</c>.</summary>
    public TextReader? Input { get; init; }
}
