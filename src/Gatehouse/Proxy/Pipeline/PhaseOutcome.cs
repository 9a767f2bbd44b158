namespace Gatehouse.Proxy.Pipeline;

/// <summary>What a request-side phase handler decided: go on, or answer now with <see cref="ProxyContext.LocalResponse"/>.</summary>
public enum PhaseOutcome
{
    Continue,
    /// <summary>Stop the request-side phases; the upstream is not contacted; response and log phases still run.</summary>
    ShortCircuit,
}

/// <summary>What a response-body handler wants done with the data it was shown.</summary>
public enum BodyOutcome
{
    /// <summary>Pass <see cref="BodyChunk.Data"/> (possibly replaced) on to the next handler or the client.</summary>
    Continue,
    /// <summary>Hold the data; the next call shows it again with the following chunk appended (Proxy-Wasm's
    /// StopIterationAndBuffer). Ignored at end of stream.</summary>
    Buffer,
}
