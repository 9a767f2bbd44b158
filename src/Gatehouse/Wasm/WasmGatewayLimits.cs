namespace Gatehouse.Wasm;

/// <summary>Gateway-side limits of the wasm integration, in one typed place (VM limits are the host library's
/// <c>WasmLimits</c>). Registered in DI; replace the singleton to change them.</summary>
public sealed record WasmGatewayLimits
{
    /// <summary>Most request-body bytes held while a filter pauses <c>on_request_body</c>; beyond it the client gets 413.</summary>
    public int MaxBufferedRequestBodyBytes { get; init; } = 8 << 20;

    /// <summary>Most response-body bytes held while a filter pauses <c>on_response_body</c>; beyond it the response is
    /// ended (nothing of it was sent yet) instead of growing without bound.</summary>
    public int MaxBufferedResponseBodyBytes { get; init; } = 8 << 20;
}

/// <summary>Thrown from the request-body phase to stop the upstream request after a local answer was set.</summary>
internal sealed class RequestBodyStoppedException(string reason) : Exception(reason);
