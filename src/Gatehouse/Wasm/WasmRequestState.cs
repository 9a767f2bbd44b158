using Gatehouse.Proxy.Pipeline;
using ProxyWasm.Contexts;

namespace Gatehouse.Wasm;

/// <summary>
/// Per-request wasm state, kept in the request's <c>ProxyContext.FilterState</c>: the stream host, one filter context per
/// plan entry, the leases taken on their plugins, and whether the chain is attached (its first filter ran in
/// access) or failed (a trap: remaining steps are skipped, Kong §5.4).
/// </summary>
internal sealed class WasmRequestState
{
    public WasmRequestState(ProxyContext context, int entries)
    {
        Stream = new AspNetHttpStream(context);
        Contexts = new HttpFilterContext?[entries];
        Leases = new SharedFilterPlugin?[entries];
        var headers = context.HttpContext.Request.Headers;
        _clientVia = headers.Via;
        _clientForwardedFor = headers[ForwardedFor];
    }

    private const string ForwardedFor = "X-Forwarded-For";

    // the client's Via and X-Forwarded-For, before any filter ran (struct copies of the header values, no allocation)
    private readonly Microsoft.Extensions.Primitives.StringValues _clientVia;
    private readonly Microsoft.Extensions.Primitives.StringValues _clientForwardedFor;

    public AspNetHttpStream Stream { get; }
    public HttpFilterContext?[] Contexts { get; }
    public SharedFilterPlugin?[] Leases { get; }
    public bool Failed { get; set; }

    public static WasmRequestState? Of(ProxyContext context) => context.FilterState as WasmRequestState;

    public static WasmRequestState Attach(ProxyContext context, int entries)
    {
        if (Of(context) is { } existing) return existing;
        var state = new WasmRequestState(context, entries);
        context.FilterState = state;
        return state;
    }

    /// <summary>
    /// Kong computes the upstream <c>Via</c> and <c>X-Forwarded-For</c> from the client's headers in its access phase,
    /// before the filters' <c>on_request_headers</c>, and sends them with <c>proxy_set_header</c>: a filter's edits of
    /// those two headers never reach the upstream. Called once the chain's request headers step is over, so the
    /// gateway's forwarding headers (<c>Proxy/ForwardedHeaders</c>) start from the client's values again.
    /// </summary>
    public void RestoreClientForwardingHeaders(Microsoft.AspNetCore.Http.IHeaderDictionary headers)
    {
        if (!Microsoft.Extensions.Primitives.StringValues.Equals(headers.Via, _clientVia)) headers.Via = _clientVia;
        if (!Microsoft.Extensions.Primitives.StringValues.Equals(headers[ForwardedFor], _clientForwardedFor)) headers[ForwardedFor] = _clientForwardedFor;
    }

    private bool _tailPending;

    /// <summary>Disposes the entry's filter context and returns its plugin lease. Once every entry is released and
    /// every context ended with it (no guest callback left that could read them), the body buffers go back to the
    /// pool.</summary>
    public void Release(int index)
    {
        if (Contexts[index] is { } http)
        {
            http.Dispose();
            _tailPending |= !http.Ended;
            Contexts[index] = null;
        }
        Leases[index]?.Release();
        Leases[index] = null;
        if (!_tailPending && Array.TrueForAll(Contexts, c => c is null)) Stream.ReleaseBodies();
    }
}
