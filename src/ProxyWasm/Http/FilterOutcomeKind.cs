namespace ProxyWasm.Http;

/// <summary>What the embedder must do after a filter phase.</summary>
public enum FilterOutcomeKind
{
    /// <summary>Proceed with the (possibly modified) headers/body. Also the result of a pause that was resumed.</summary>
    Continue = 0,
    /// <summary>Body phases only: keep accumulating body bytes in the buffer and call the phase again (StopIterationAndBuffer).</summary>
    BufferBody = 1,
    /// <summary>Send <see cref="FilterOutcome.LocalResponse"/> instead of proxying; skip the remaining request phases.</summary>
    LocalResponse = 2,
    /// <summary>The filter closed the stream (<c>proxy_close_stream</c>): reset the request.</summary>
    Closed = 3,
    /// <summary>The VM failed (trap, deadline, memory); answer 500 unless headers were already sent (then abort).</summary>
    Failed = 4,
}
