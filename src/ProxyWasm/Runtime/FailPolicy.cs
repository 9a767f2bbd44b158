namespace ProxyWasm.Runtime;

/// <summary>What a request sees when its filter's VM fails (trap, deadline, memory limit) — spec §2.7.</summary>
public enum FailPolicy
{
    /// <summary>The phase returns <c>FilterOutcome.Failed</c>; the embedder answers 500 (ngx) / 503 (Envoy).</summary>
    FailClosed = 0,
    /// <summary>The failure is logged and the request passes through; further callbacks of that context are skipped.</summary>
    FailOpen = 1,
}
