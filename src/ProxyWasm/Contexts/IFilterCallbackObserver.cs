namespace ProxyWasm.Contexts;

/// <summary>The guest callbacks the host makes on one HTTP context, as an embedder's tracer sees them.</summary>
public enum FilterCallback
{
    /// <summary><c>proxy_on_request_headers</c>.</summary>
    RequestHeaders,
    /// <summary><c>proxy_on_request_body</c>.</summary>
    RequestBody,
    /// <summary><c>proxy_on_request_trailers</c>.</summary>
    RequestTrailers,
    /// <summary><c>proxy_on_response_headers</c>.</summary>
    ResponseHeaders,
    /// <summary><c>proxy_on_response_body</c>.</summary>
    ResponseBody,
    /// <summary><c>proxy_on_response_trailers</c>.</summary>
    ResponseTrailers,
    /// <summary><c>proxy_on_http_call_response</c> for a call this context dispatched.</summary>
    HttpCallResponse,
    /// <summary><c>proxy_on_done</c>.</summary>
    Done,
    /// <summary><c>proxy_on_log</c>.</summary>
    Log,
    /// <summary><c>proxy_on_delete</c>.</summary>
    Delete,
}

/// <summary>What one guest callback decided.</summary>
public enum FilterCallbackOutcome
{
    /// <summary>The stream goes on (Continue, or true from <c>proxy_on_done</c>).</summary>
    Continue,
    /// <summary>The stream waits: Pause / StopIteration(AndBuffer), a callback still paused after an HTTP-call
    /// response, or false from <c>proxy_on_done</c> (the tail waits for <c>proxy_done</c>).</summary>
    Pause,
    /// <summary>The filter answered (<c>proxy_send_local_response</c>).</summary>
    LocalResponse,
    /// <summary>The filter closed the stream (<c>proxy_close_stream</c>).</summary>
    Close,
    /// <summary>The VM failed in the callback (trap, deadline, memory); the context gets no further callbacks.</summary>
    Trap,
}

/// <summary>
/// Told about each guest callback actually made on one HTTP context (never about one the module does not export):
/// <see cref="Started"/> right before the guest runs, <see cref="Ended"/> right after, both on the calling thread
/// with the VM's gate held, so one context's notifications never overlap. <c>proxy_on_http_call_response</c>
/// arrives on a thread-pool thread, possibly while the request runs another filter. Implementations must be
/// quick and must not call back into the VM.
/// </summary>
public interface IFilterCallbackObserver
{
    /// <summary>The guest is about to run <paramref name="callback"/>.</summary>
    void Started(FilterCallback callback);

    /// <summary>The guest returned from <paramref name="callback"/> (or failed in it).</summary>
    /// <param name="callback">the callback that ran</param>
    /// <param name="outcome">what it decided</param>
    /// <param name="error">the VM's failure when <paramref name="outcome"/> is <see cref="FilterCallbackOutcome.Trap"/></param>
    void Ended(FilterCallback callback, FilterCallbackOutcome outcome, string? error);
}
