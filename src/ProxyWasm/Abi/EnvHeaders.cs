using System.Buffers;
using System.Text;
using ProxyWasm.Contexts;
using ProxyWasm.Http;
using ProxyWasm.Runtime;
using Wasmtime;

namespace ProxyWasm.Abi;

/// <summary>Header/trailer/metadata map host functions (spec §1.6 "HTTP fields"). Names match case-insensitively;
/// names and values cross as byte strings (<see cref="HeaderBytes"/>), so a filter sees the client's exact bytes.</summary>
internal static class EnvHeaders
{
    private static WasmResult Resolve(WasmVm vm, int type, bool write, out IHeaderMap map)
    {
        map = null!;
        if ((uint)type > (uint)MapType.Max) return WasmResult.BadArgument;
        var found = vm.Active?.GetMap((MapType)type);
        if (found is null) return WasmResult.BadArgument; // Envoy: map not available here
        if (write && (!ContextBase.IsWritable((MapType)type) || found.IsReadOnly)) return WasmResult.BadArgument;
        map = found;
        return WasmResult.Ok;
    }

    /// <summary>A header name from guest memory, interned per VM (<see cref="NameCache"/>).</summary>
    private static bool TryReadName(Span<byte> memory, WasmVm vm, int ptr, int len, out string name)
    {
        name = "";
        if (!GuestMemory.TryRead(memory, ptr, len, out var bytes)) return false;
        name = vm.HeaderNames.Get(bytes);
        return true;
    }

    // (map_type, ret_ptr_ptr, ret_size_ptr)
    public static int GetPairs(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        var status = Resolve(vm, a[0].AsInt32(), false, out var map);
        if (status != WasmResult.Ok) return (int)status;
        var result = GuestMemory.Reserve(caller, vm, PairsCodec.SizeOf(map), a[1].AsInt32(), a[2].AsInt32(), out var target);
        if (result == WasmResult.Ok && !target.IsEmpty) PairsCodec.Write(map, target);
        return (int)result;
    }

    // (map_type, ptr, size)
    public static int SetPairs(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        var status = Resolve(vm, a[0].AsInt32(), true, out var map);
        if (status != WasmResult.Ok) return (int)status;
        if (!GuestMemory.TryRead(GuestMemory.Of(caller, vm), a[1].AsInt32(), a[2].AsInt32(), out var data)) return (int)WasmResult.InvalidMemoryAccess;
        var pairs = new List<KeyValuePair<string, string>>();
        if (!PairsCodec.TryParse(data, vm.Config.Limits.MaxPairsBytes, vm.Config.Limits.MaxPairsCount, pairs)) return (int)WasmResult.BadArgument;
        foreach (var p in pairs)
            if (p.Key.Length == 0) return (int)WasmResult.BadArgument; // refused whole, before anything is cleared
        map.Clear();
        foreach (var p in pairs) map.Add(p.Key, p.Value);
        return (int)WasmResult.Ok;
    }

    // (map_type, ret_size_ptr): serialized size in bytes (spec)
    public static int GetSize(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        var status = Resolve(vm, a[0].AsInt32(), false, out var map);
        if (status != WasmResult.Ok) return (int)status;
        int size = PairsCodec.SizeOf(map);
        return GuestMemory.TryWriteU32(GuestMemory.Of(caller, vm), a[1].AsInt32(), (uint)size) ? (int)WasmResult.Ok : (int)WasmResult.InvalidMemoryAccess;
    }

    // (map_type, key_ptr, key_size, ret_ptr_ptr, ret_size_ptr); missing key: 0.1.0 → OK + empty, 0.2.x → NOT_FOUND
    public static int GetValue(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        var status = Resolve(vm, a[0].AsInt32(), false, out var map);
        if (status != WasmResult.Ok) return (int)status;
        if (!TryReadName(GuestMemory.Of(caller, vm), vm, a[1].AsInt32(), a[2].AsInt32(), out var key)) return (int)WasmResult.InvalidMemoryAccess;
        if (!map.TryGetValue(key, out var value))
        {
            if (vm.Abi != AbiVersion.V0_1_0) return (int)WasmResult.NotFound;
            value = "";
        }
        return (int)GuestMemory.CopyOutHeader(caller, vm, value, a[3].AsInt32(), a[4].AsInt32());
    }

    public static int AddValue(Caller caller, ReadOnlySpan<HostArg> a) => Mutate(caller, a, replace: false);

    public static int ReplaceValue(Caller caller, ReadOnlySpan<HostArg> a) => Mutate(caller, a, replace: true);

    // (map_type, key_ptr, key_size, value_ptr, value_size)
    private static int Mutate(Caller caller, ReadOnlySpan<HostArg> a, bool replace)
    {
        var vm = (WasmVm)caller.GetData()!;
        var status = Resolve(vm, a[0].AsInt32(), true, out var map);
        if (status != WasmResult.Ok) return (int)status;
        var memory = GuestMemory.Of(caller, vm);
        if (!TryReadName(memory, vm, a[1].AsInt32(), a[2].AsInt32(), out var key)
            || !GuestMemory.TryReadHeader(memory, a[3].AsInt32(), a[4].AsInt32(), out var value)) return (int)WasmResult.InvalidMemoryAccess;
        if (key.Length == 0) return (int)WasmResult.BadArgument; // no field has an empty name (ASP.NET's headers throw)
        if (replace) map.Replace(key, value);
        else map.Add(key, value);
        return (int)WasmResult.Ok;
    }

    // (map_type, key_ptr, key_size): removes all values; OK when absent
    public static int RemoveValue(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        var status = Resolve(vm, a[0].AsInt32(), true, out var map);
        if (status != WasmResult.Ok) return (int)status;
        if (!TryReadName(GuestMemory.Of(caller, vm), vm, a[1].AsInt32(), a[2].AsInt32(), out var key)) return (int)WasmResult.InvalidMemoryAccess;
        map.Remove(key);
        return (int)WasmResult.Ok;
    }
}
