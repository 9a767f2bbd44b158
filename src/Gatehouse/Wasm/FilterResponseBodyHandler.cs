using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Wasm;

/// <summary>The on_response_body step of a filter entry, in the plan only when the module exports
/// <c>proxy_on_response_body</c>: any response-body handler makes the pipeline wrap the client stream, call handlers
/// per chunk and drop Content-Length (chunked answers), which a headers-only filter must not cost.</summary>
internal sealed class FilterResponseBodyHandler(FilterEntryHandler entry) : IResponseBodyHandler
{
    public string Name => entry.Name;

    public string Kind => entry.Kind;

    public ValueTask<BodyOutcome> OnResponseBodyAsync(ProxyContext context, BodyChunk chunk) => entry.OnResponseBodyAsync(context, chunk);
}
