using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Wasm;

/// <summary>The on_request_body step of a filter entry, in the plan only when the module exports
/// <c>proxy_on_request_body</c>: any request-body handler makes the pipeline stream the body through handlers and
/// drop the upstream Content-Length, which a headers-only filter must not cost.</summary>
internal sealed class FilterRequestBodyHandler(FilterEntryHandler entry) : IRequestBodyHandler
{
    public string Name => entry.Name;

    public string Kind => entry.Kind;

    public ValueTask<BodyOutcome> OnRequestBodyAsync(ProxyContext context, BodyChunk chunk) => entry.OnRequestBodyAsync(context, chunk);
}
