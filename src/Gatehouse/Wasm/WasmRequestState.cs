using Gatehouse.Proxy.Pipeline;
using ProxyWasm.Contexts;

namespace Gatehouse.Wasm;

/// <summary>
/// Per-request wasm state, kept in the request's <c>ProxyContext.FilterState</c>: the stream host, one filter context per
/// plan entry, the leases taken on their plugins, and whether the chain is attached (its first filter ran in
/// access) or failed (a trap: remaining steps are skipped, Kong §5.4). Taken from the chain's
/// <see cref="WasmRequestStatePool"/> when it has one, and given back once the request is over for every entry.
/// </summary>
internal sealed class WasmRequestState
{
    private readonly WasmRequestStatePool? _pool;
    private int _released;
    private bool _tailPending;

    public WasmRequestState(ProxyContext context, int entries) : this(entries, null) => Begin(context);

    internal WasmRequestState(int entries, WasmRequestStatePool? pool)
    {
        _pool = pool;
        Stream = new AspNetHttpStream();
        Contexts = new HttpFilterContext?[entries];
        Leases = new SharedFilterPlugin?[entries];
    }

    private const string ForwardedFor = "X-Forwarded-For";

    // the client's Via and X-Forwarded-For, before any filter ran (struct copies of the header values, no allocation)
    private Microsoft.Extensions.Primitives.StringValues _clientVia;
    private Microsoft.Extensions.Primitives.StringValues _clientForwardedFor;

    public AspNetHttpStream Stream { get; }
    public HttpFilterContext?[] Contexts { get; }
    public SharedFilterPlugin?[] Leases { get; }
    public bool Failed { get; set; }

    public static WasmRequestState? Of(ProxyContext context) => context.FilterState as WasmRequestState;

    public static WasmRequestState Attach(ProxyContext context, int entries, WasmRequestStatePool? pool = null)
    {
        if (Of(context) is { } existing) return existing;
        WasmRequestState state;
        if (pool is not null && pool.Entries == entries)
        {
            state = pool.Rent();
            state.Begin(context);
        }
        else state = new WasmRequestState(context, entries);
        context.FilterState = state;
        return state;
    }

    private void Begin(ProxyContext context)
    {
        Stream.Begin(context);
        Failed = false;
        _released = 0;
        _tailPending = false;
        var headers = context.HttpContext.Request.Headers;
        _clientVia = headers.Via;
        _clientForwardedFor = headers[ForwardedFor];
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

    /// <summary>Disposes the entry's filter context and returns its plugin lease (the log step of every entry calls it
    /// once). Once every entry is released and every context ended with it (no guest callback left that could read
    /// them), the body buffers go back to the pool, and this state to the chain's pool.</summary>
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
        _released++;
        if (_tailPending || !Array.TrueForAll(Contexts, c => c is null)) return;
        Stream.ReleaseBodies();
        if (_released < Contexts.Length || _pool is null) return;
        // every entry's log step ran: nothing of this request reads the state any more
        var context = Stream.Context;
        if (ReferenceEquals(context.FilterState, this)) context.FilterState = null;
        Stream.End();
        _clientVia = _clientForwardedFor = default;
        _pool.Return(this);
    }
}
