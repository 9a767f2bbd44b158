using Gatehouse.Proxy.Pipeline;
using ProxyWasm.Contexts;

namespace Gatehouse.Wasm;

/// <summary>
/// Per-request wasm state, kept in <see cref="ProxyContext.Shared"/>: the stream host, one filter context per
/// plan entry, the leases taken on their plugins, and whether the chain is attached (its first filter ran in
/// access) or failed (a trap: remaining steps are skipped, Kong §5.4).
/// </summary>
internal sealed class WasmRequestState
{
    public const string Key = "gatehouse.wasm";

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

    public static WasmRequestState? Of(ProxyContext context) =>
        context.Shared.TryGetValue(Key, out var s) ? s as WasmRequestState : null;

    public static WasmRequestState Attach(ProxyContext context, int entries)
    {
        if (Of(context) is { } existing) return existing;
        var state = new WasmRequestState(context, entries);
        context.Shared[Key] = state;
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
