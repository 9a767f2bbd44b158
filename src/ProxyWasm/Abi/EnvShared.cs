using ProxyWasm.Runtime;
using Wasmtime;

namespace ProxyWasm.Abi;

/// <summary>Shared key/value data and shared queues (spec §5.2, §5.3), scoped by the plugin's vm_id.</summary>
internal static class EnvShared
{
    // (key_ptr, key_size, ret_value_ptr_ptr, ret_value_size_ptr, ret_cas_ptr)
    public static int GetSharedData(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        var memory = GuestMemory.Of(caller, vm);
        if (!GuestMemory.TryReadString(memory, a[0].AsInt32(), a[1].AsInt32(), out var key)) return (int)WasmResult.InvalidMemoryAccess;
        var status = vm.Host.SharedData.Get(vm.Config.VmId, key, out var value, out var cas);
        if (status != WasmResult.Ok) return (int)status;
        // the cas slot is written only once the value is out: an error leaves guest memory as it was
        if (!GuestMemory.TryWritable(memory, a[4].AsInt32(), 4, out _)) return (int)WasmResult.InvalidMemoryAccess;
        var result = GuestMemory.CopyOut(caller, vm, value, a[2].AsInt32(), a[3].AsInt32());
        if (result == WasmResult.Ok) GuestMemory.TryWriteU32(GuestMemory.Of(caller, vm), a[4].AsInt32(), cas); // re-acquired: the allocator may have grown memory
        return (int)result;
    }

    // (key_ptr, key_size, value_ptr, value_size, cas); a null value pointer deletes (ngx extension)
    public static int SetSharedData(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        var memory = GuestMemory.Of(caller, vm);
        if (!GuestMemory.TryReadString(memory, a[0].AsInt32(), a[1].AsInt32(), out var key)) return (int)WasmResult.InvalidMemoryAccess;
        int valuePtr = a[2].AsInt32(), valueSize = a[3].AsInt32();
        if ((uint)valueSize > (uint)vm.Config.Limits.MaxSharedValueBytes) return (int)WasmResult.BadArgument;
        if (!GuestMemory.TryRead(memory, valuePtr, valueSize, out var value)) return (int)WasmResult.InvalidMemoryAccess;
        byte[]? stored = valuePtr == 0 && valueSize == 0 ? null : value.ToArray();
        return (int)vm.Host.SharedData.Set(vm.Config.VmId, key, stored, (uint)a[4].AsInt32());
    }

    // (name_ptr, name_size, ret_queue_id_ptr): the calling root context becomes the owner
    public static int RegisterQueue(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        var root = vm.Active?.Root ?? vm.Root;
        if (root is null) return (int)WasmResult.NotFound;
        var memory = GuestMemory.Of(caller, vm);
        if (!GuestMemory.TryReadString(memory, a[0].AsInt32(), a[1].AsInt32(), out var name)) return (int)WasmResult.InvalidMemoryAccess;
        if (!GuestMemory.TryWriteU32(memory, a[2].AsInt32(), 0)) return (int)WasmResult.InvalidMemoryAccess;
        uint token = vm.Host.Queues.Register(vm.Config.VmId, name, vm, root.Id, takeOwnership: !vm.IsScratch);
        GuestMemory.TryWriteU32(memory, a[2].AsInt32(), token);
        return (int)WasmResult.Ok;
    }

    // (vm_id_ptr, vm_id_size, name_ptr, name_size, ret_queue_id_ptr); empty vm_id = own
    public static int ResolveQueue(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        var memory = GuestMemory.Of(caller, vm);
        if (!GuestMemory.TryReadString(memory, a[0].AsInt32(), a[1].AsInt32(), out var vmId)
            || !GuestMemory.TryReadString(memory, a[2].AsInt32(), a[3].AsInt32(), out var name)) return (int)WasmResult.InvalidMemoryAccess;
        var status = vm.Host.Queues.Resolve(vmId.Length == 0 ? vm.Config.VmId : vmId, name, out var token);
        if (status != WasmResult.Ok) return (int)status;
        return GuestMemory.TryWriteU32(memory, a[4].AsInt32(), token) ? (int)WasmResult.Ok : (int)WasmResult.InvalidMemoryAccess;
    }

    // (queue_id, value_ptr, value_size)
    public static int EnqueueQueue(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        int size = a[2].AsInt32();
        if ((uint)size > (uint)vm.Config.Limits.MaxSharedValueBytes) return (int)WasmResult.BadArgument;
        if (!GuestMemory.TryRead(GuestMemory.Of(caller, vm), a[1].AsInt32(), size, out var value)) return (int)WasmResult.InvalidMemoryAccess;
        return (int)vm.Host.Queues.Enqueue((uint)a[0].AsInt32(), value.ToArray());
    }

    // (queue_id, ret_value_ptr_ptr, ret_value_size_ptr)
    public static int DequeueQueue(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        var status = vm.Host.Queues.Dequeue((uint)a[0].AsInt32(), out var value);
        if (status != WasmResult.Ok) return (int)status;
        return (int)GuestMemory.CopyOut(caller, vm, value, a[1].AsInt32(), a[2].AsInt32());
    }
}
