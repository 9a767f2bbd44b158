namespace ProxyWasm.Http;

/// <summary>
/// Sends the HTTP callouts filters make with <c>proxy_http_call</c>. One per host; the gateway maps upstream
/// names to clusters/URIs. Completion may happen on any thread — the host marshals it to the owning VM.
/// </summary>
public interface IHttpCallDispatcher
{
    /// <summary>False ⇒ <c>proxy_http_call</c> answers BAD_ARGUMENT (Envoy: unknown cluster).</summary>
    bool IsKnownUpstream(string upstream);

    /// <summary>Sends the call. A fault or cancellation is delivered to the guest as a failed call (0 headers).</summary>
    Task<HttpCallResponse> SendAsync(HttpCallRequest request, CancellationToken cancellationToken);
}
