using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Wasm;

/// <summary>The on_request_trailers step of a filter entry, in the plan only when the module exports
/// <c>proxy_on_request_trailers</c> (the step makes the request body pass through the pipeline's stream).</summary>
internal sealed class FilterRequestTrailersHandler(FilterEntryHandler entry) : IRequestTrailersHandler
{
    public string Name => entry.Name;

    public string Kind => entry.Kind;

    public ValueTask OnRequestTrailersAsync(ProxyContext context) => entry.OnRequestTrailersAsync(context);
}

/// <summary>The on_response_trailers step of a filter entry, in the plan only when the module exports
/// <c>proxy_on_response_trailers</c>.</summary>
internal sealed class FilterResponseTrailersHandler(FilterEntryHandler entry) : IResponseTrailersHandler
{
    public string Name => entry.Name;

    public string Kind => entry.Kind;

    public ValueTask OnResponseTrailersAsync(ProxyContext context) => entry.OnResponseTrailersAsync(context);
}
