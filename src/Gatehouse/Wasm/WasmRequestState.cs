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
    }

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

    /// <summary>Disposes the entry's filter context and returns its plugin lease.</summary>
    public void Release(int index)
    {
        Contexts[index]?.Dispose();
        Contexts[index] = null;
        Leases[index]?.Release();
        Leases[index] = null;
    }
}
