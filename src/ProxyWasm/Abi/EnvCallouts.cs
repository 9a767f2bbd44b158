using ProxyWasm.Http;
using ProxyWasm.Runtime;
using Wasmtime;

namespace ProxyWasm.Abi;

/// <summary><c>proxy_http_call</c> (spec §5.1) and the gRPC callouts, which this host does not offer (UNIMPLEMENTED).</summary>
internal static class EnvCallouts
{
    // (upstream_ptr, upstream_size, headers_ptr, headers_size, body_ptr, body_size, trailers_ptr, trailers_size, timeout_ms, ret_token_ptr)
    public static int HttpCall(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        var context = vm.Active;
        if (context is null) return (int)WasmResult.BadArgument;
        var memory = GuestMemory.Of(caller, vm);
        if (!GuestMemory.TryReadString(memory, a[0].AsInt32(), a[1].AsInt32(), out var upstream)
            || !GuestMemory.TryRead(memory, a[2].AsInt32(), a[3].AsInt32(), out var headerBytes)) return (int)WasmResult.InvalidMemoryAccess;
        var limits = vm.Config.Limits;
        var headers = new List<KeyValuePair<string, string>>();
        if (!PairsCodec.TryParse(headerBytes, limits.MaxPairsBytes, limits.MaxPairsCount, headers)) return (int)WasmResult.BadArgument;
        if (!GuestMemory.TryRead(memory, a[4].AsInt32(), a[5].AsInt32(), out var body)) return (int)WasmResult.InvalidMemoryAccess;
        byte[] bodyCopy = body.ToArray();
        if (!GuestMemory.TryRead(memory, a[6].AsInt32(), a[7].AsInt32(), out var trailerBytes)) return (int)WasmResult.InvalidMemoryAccess;
        var trailers = new List<KeyValuePair<string, string>>();
        if (!PairsCodec.TryParse(trailerBytes, limits.MaxPairsBytes, limits.MaxPairsCount, trailers)) return (int)WasmResult.BadArgument;
        int retToken = a[9].AsInt32();
        if (!GuestMemory.TryWriteU32(memory, retToken, 0)) return (int)WasmResult.InvalidMemoryAccess;
        if (!Has(headers, ":method") || !Has(headers, ":path") || !Has(headers, ":authority")) return (int)WasmResult.BadArgument;
        uint timeoutMs = (uint)a[8].AsInt32();
        var timeout = timeoutMs == 0 ? limits.DefaultHttpCallTimeout : TimeSpan.FromMilliseconds(timeoutMs);
        var status = vm.DispatchHttpCall(context, new HttpCallRequest(upstream, headers, bodyCopy, trailers, timeout), out var token);
        if (status != WasmResult.Ok) return (int)status;
        GuestMemory.TryWriteU32(GuestMemory.Of(caller, vm), retToken, token);
        return (int)WasmResult.Ok;
    }

    private static bool Has(List<KeyValuePair<string, string>> headers, string name)
        => headers.Exists(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase) && h.Value.Length > 0);

    // proxy_grpc_call / _stream / _send / _cancel / _close
    public static int Unimplemented(Caller caller, ReadOnlySpan<HostArg> a) => (int)WasmResult.Unimplemented;
}
