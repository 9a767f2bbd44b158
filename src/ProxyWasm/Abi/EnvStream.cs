using System.Text;
using ProxyWasm.Http;
using ProxyWasm.Runtime;
using Wasmtime;

namespace ProxyWasm.Abi;

/// <summary>Stream control, local responses, call status, <c>proxy_done</c>, effective context (spec §1.6, §2.4–2.6).</summary>
internal static class EnvStream
{
    public static int ContinueStream(Caller caller, ReadOnlySpan<HostArg> a) => Continue((WasmVm)caller.GetData()!, a[0].AsInt32());

    public static int ContinueRequest(Caller caller, ReadOnlySpan<HostArg> a) => Continue((WasmVm)caller.GetData()!, (int)StreamType.HttpRequest);

    public static int ContinueResponse(Caller caller, ReadOnlySpan<HostArg> a) => Continue((WasmVm)caller.GetData()!, (int)StreamType.HttpResponse);

    // 0.1.0: re-run routing. The embedder re-routes after request headers anyway, so this only acknowledges.
    public static int ClearRouteCache(Caller caller, ReadOnlySpan<HostArg> a) => (int)WasmResult.Ok;

    private static int Continue(WasmVm vm, int type)
    {
        if ((uint)type > (uint)StreamType.Max) return (int)WasmResult.BadArgument;
        if (type >= (int)StreamType.Downstream) return (int)WasmResult.Unimplemented;
        var stream = vm.Active?.Stream;
        if (stream is null) return (int)WasmResult.NotFound;
        stream.RequestContinue((StreamType)type);
        return (int)WasmResult.Ok;
    }

    // proxy_close_stream(stream_type)
    public static int CloseStream(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        int type = a[0].AsInt32();
        if ((uint)type > (uint)StreamType.Max) return (int)WasmResult.BadArgument;
        if (type >= (int)StreamType.Downstream) return (int)WasmResult.Unimplemented;
        var stream = vm.Active?.Stream;
        if (stream is null) return (int)WasmResult.NotFound;
        stream.CloseRequested = true;
        vm.Touch(stream);
        return (int)WasmResult.Ok;
    }

    // (status_code, details_ptr, details_size, body_ptr, body_size, headers_ptr, headers_size, grpc_status)
    public static int SendLocalResponse(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        var stream = vm.Active?.Stream;
        if (stream is null) return (int)WasmResult.BadArgument;
        int status = a[0].AsInt32();
        if (status is < 100 or > 599) return (int)WasmResult.BadArgument;
        var memory = GuestMemory.Of(caller, vm);
        if (!GuestMemory.TryReadString(memory, a[1].AsInt32(), a[2].AsInt32(), out var details)
            || !GuestMemory.TryRead(memory, a[3].AsInt32(), a[4].AsInt32(), out var body)
            || !GuestMemory.TryRead(memory, a[5].AsInt32(), a[6].AsInt32(), out var headerBytes)) return (int)WasmResult.InvalidMemoryAccess;
        var headers = new List<KeyValuePair<string, string>>();
        if (!PairsCodec.TryParse(headerBytes, vm.Config.Limits.MaxPairsBytes, vm.Config.Limits.MaxPairsCount, headers)) return (int)WasmResult.BadArgument;
        if (stream.LocalResponseProduced || stream.ResponseHeadersSent) return (int)WasmResult.BadArgument;
        int grpc = a[7].AsInt32();
        stream.PendingLocalResponse = new LocalResponse(status, details, body.ToArray(), headers, grpc is >= 0 and <= 16 ? grpc : null);
        stream.LocalResponseProduced = true;
        vm.CancelHttpCallsOf(stream); // ngx: "local response produced, cancelling pending dispatch operations"
        vm.Touch(stream);
        return (int)WasmResult.Ok;
    }

    // (ret_code_ptr, ret_msg_ptr_ptr, ret_msg_size_ptr): status of the HTTP call being delivered
    public static int GetStatus(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        var response = vm.Active?.Root.CallResponse;
        if (response is null) return (int)WasmResult.NotFound;
        uint code = response.Failed ? (uint)WasmResult.BrokenConnection : 0;
        if (!GuestMemory.TryWriteU32(GuestMemory.Of(caller, vm), a[0].AsInt32(), code)) return (int)WasmResult.InvalidMemoryAccess;
        return (int)GuestMemory.CopyOut(caller, vm, Encoding.UTF8.GetBytes(response.Failed ? response.FailureReason : ""), a[1].AsInt32(), a[2].AsInt32());
    }

    // proxy_done(): finishes a context whose proxy_on_done returned false
    public static int Done(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        var stream = vm.Active?.Stream;
        if (stream is null || !stream.PendingDone) return (int)WasmResult.NotFound;
        stream.DoneSignalled = true;
        vm.Touch(stream);
        return (int)WasmResult.Ok;
    }

    // proxy_set_effective_context(context_id)
    public static int SetEffectiveContext(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        if (!vm.TryGetContext(a[0].AsInt32(), out var context)) return (int)WasmResult.BadArgument;
        vm.Effective = context;
        return (int)WasmResult.Ok;
    }
}
