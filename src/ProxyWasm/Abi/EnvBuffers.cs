using ProxyWasm.Runtime;
using Wasmtime;

namespace ProxyWasm.Abi;

/// <summary>
/// <c>proxy_get_buffer_bytes</c>, <c>proxy_get_buffer_status</c>, <c>proxy_set_buffer_bytes</c> (spec §1.6).
/// Unknown type → BAD_ARGUMENT; buffer not available in this callback → NOT_FOUND (the Rust SDK tolerates it).
/// </summary>
internal static class EnvBuffers
{
    // (buffer_type, start, max_size, ret_ptr_ptr, ret_size_ptr)
    public static int GetBufferBytes(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        int type = a[0].AsInt32();
        uint start = (uint)a[1].AsInt32(), max = (uint)a[2].AsInt32();
        if ((uint)type > (uint)BufferType.Max) return (int)WasmResult.BadArgument;
        if ((ulong)start + max > uint.MaxValue) return (int)WasmResult.BadArgument;
        var context = vm.Active ?? vm.Root;
        if (context is null) return (int)WasmResult.NotFound;
        var status = context.GetBuffer((BufferType)type, out var bytes);
        if (status != WasmResult.Ok) return (int)status;
        if (start >= (uint)bytes.Length) bytes = default;
        else bytes = bytes.Slice((int)start, (int)Math.Min(max, (uint)bytes.Length - start));
        return (int)GuestMemory.CopyOut(caller, vm, bytes, a[3].AsInt32(), a[4].AsInt32());
    }

    // (buffer_type, ret_size_ptr, ret_flags_ptr)
    public static int GetBufferStatus(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        int type = a[0].AsInt32();
        if ((uint)type > (uint)BufferType.Max) return (int)WasmResult.BadArgument;
        var context = vm.Active ?? vm.Root;
        if (context is null) return (int)WasmResult.NotFound;
        var status = context.GetBuffer((BufferType)type, out var bytes);
        if (status != WasmResult.Ok) return (int)status;
        var memory = GuestMemory.Of(caller, vm);
        // both slots checked before either is written: an error leaves guest memory as it was
        if (!GuestMemory.TryWritable(memory, a[1].AsInt32(), 4, out _) || !GuestMemory.TryWritable(memory, a[2].AsInt32(), 4, out _))
            return (int)WasmResult.InvalidMemoryAccess;
        GuestMemory.TryWriteU32(memory, a[1].AsInt32(), (uint)bytes.Length);
        GuestMemory.TryWriteU32(memory, a[2].AsInt32(), 0);
        return (int)WasmResult.Ok;
    }

    // (buffer_type, start, size, data_ptr, data_size): new = old[0..start] + data + old[min(len,start+size)..]
    public static int SetBufferBytes(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        int type = a[0].AsInt32();
        if ((uint)type > (uint)BufferType.Max) return (int)WasmResult.BadArgument;
        if (type is (int)BufferType.VmConfiguration or (int)BufferType.PluginConfiguration) return (int)WasmResult.BadArgument;
        var buffer = vm.Active?.GetWritableBuffer((BufferType)type);
        if (buffer is null) return (int)WasmResult.NotFound;
        if (!GuestMemory.TryRead(GuestMemory.Of(caller, vm), a[3].AsInt32(), a[4].AsInt32(), out var data)) return (int)WasmResult.InvalidMemoryAccess;
        uint start = (uint)a[1].AsInt32(), size = (uint)a[2].AsInt32();
        buffer.Splice((int)Math.Min(start, (uint)buffer.Length), (int)Math.Min(size, int.MaxValue), data);
        return (int)WasmResult.Ok;
    }
}
