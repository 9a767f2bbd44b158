using System.Text;
using ProxyWasm.Runtime;
using Wasmtime;

namespace ProxyWasm.Abi;

/// <summary>Properties (spec §4), foreign functions (spec §5.6) and the non-spec <c>env</c> extras.</summary>
internal static class EnvProperties
{
    /// <summary>Paths arrive NUL-separated (Rust/Envoy) or as one dotted segment (AssemblyScript/ngx); both become dotted.</summary>
    public static string NormalizePath(ReadOnlySpan<byte> raw)
    {
        if (!raw.IsEmpty && raw[^1] == 0) raw = raw[..^1];
        return Encoding.UTF8.GetString(raw).Replace('\0', '.');
    }

    // (path_ptr, path_size, ret_value_ptr_ptr, ret_value_size_ptr)
    public static int GetProperty(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        if (!GuestMemory.TryRead(GuestMemory.Of(caller, vm), a[0].AsInt32(), a[1].AsInt32(), out var raw)) return (int)WasmResult.InvalidMemoryAccess;
        var context = vm.Active ?? vm.Root;
        if (context is null) return (int)WasmResult.NotFound;
        if (!context.TryGetProperty(NormalizePath(raw), out var value)) return (int)WasmResult.NotFound;
        return (int)GuestMemory.CopyOut(caller, vm, value.Span, a[2].AsInt32(), a[3].AsInt32());
    }

    // (path_ptr, path_size, value_ptr, value_size)
    public static int SetProperty(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        var memory = GuestMemory.Of(caller, vm);
        if (!GuestMemory.TryRead(memory, a[0].AsInt32(), a[1].AsInt32(), out var raw)) return (int)WasmResult.InvalidMemoryAccess;
        var path = NormalizePath(raw);
        if (!GuestMemory.TryRead(memory, a[2].AsInt32(), a[3].AsInt32(), out var value)) return (int)WasmResult.InvalidMemoryAccess;
        var context = vm.Active;
        if (context is null) return (int)WasmResult.NotFound;
        return (int)context.SetProperty(path, value);
    }

    // (name_ptr, name_size, args_ptr, args_size, ret_results_ptr_ptr, ret_results_size_ptr)
    public static int CallForeignFunction(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        var memory = GuestMemory.Of(caller, vm);
        if (!GuestMemory.TryReadString(memory, a[0].AsInt32(), a[1].AsInt32(), out var name)
            || !GuestMemory.TryRead(memory, a[2].AsInt32(), a[3].AsInt32(), out var args)) return (int)WasmResult.InvalidMemoryAccess;
        if (!vm.Host.ForeignFunctions.TryGet(name, out var function)) return (int)WasmResult.NotFound;
        byte[] result;
        try
        {
            result = function(args);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            vm.Log(ProxyLogLevel.Error, $"foreign function '{name}' failed: {ex.Message}");
            return (int)WasmResult.InternalFailure;
        }
        return (int)GuestMemory.CopyOut(caller, vm, result, a[4].AsInt32(), a[5].AsInt32());
    }

    // emscripten_notify_memory_growth(i32) -> ()
    public static int NoOp(Caller caller, ReadOnlySpan<HostArg> a) => 0;

    // pthread_equal(a, b) -> i32
    public static int PthreadEqual(Caller caller, ReadOnlySpan<HostArg> a) => a[0].AsInt32() == a[1].AsInt32() ? 1 : 0;

    // AssemblyScript abort(msg, file, line, col): always traps
    public static int Abort(Caller caller, ReadOnlySpan<HostArg> a)
        => throw new InvalidOperationException($"guest abort at line {a[2].AsInt32()}, column {a[3].AsInt32()}");
}
