using ProxyWasm.Runtime;
using Wasmtime;

namespace ProxyWasm.Abi;

/// <summary>Logging, time, timers and 0.1.0 configuration access (spec §1.6).</summary>
internal static class EnvLogging
{
    // proxy_log(level, msg_ptr, msg_size)
    public static int Log(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        int level = a[0].AsInt32();
        if ((uint)level > (uint)ProxyLogLevel.Max) return (int)WasmResult.BadArgument;
        if (!vm.WantsLog((ProxyLogLevel)level))
            return GuestMemory.TryRead(GuestMemory.Of(caller, vm), a[1].AsInt32(), a[2].AsInt32(), out _) ? (int)WasmResult.Ok : (int)WasmResult.InvalidMemoryAccess;
        if (!GuestMemory.TryReadString(GuestMemory.Of(caller, vm), a[1].AsInt32(), a[2].AsInt32(), out var message)) return (int)WasmResult.InvalidMemoryAccess;
        vm.Log((ProxyLogLevel)level, message);
        return (int)WasmResult.Ok;
    }

    // proxy_get_log_level(ret_level_ptr)
    public static int GetLogLevel(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        return GuestMemory.TryWriteU32(GuestMemory.Of(caller, vm), a[0].AsInt32(), (uint)vm.CurrentLogLevel())
            ? (int)WasmResult.Ok : (int)WasmResult.InvalidMemoryAccess;
    }

    // proxy_get_current_time_nanoseconds(ret_u64_ptr)
    public static int GetCurrentTime(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        ulong ns = (ulong)(vm.Host.TimeProvider.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;
        return GuestMemory.TryWriteU64(GuestMemory.Of(caller, vm), a[0].AsInt32(), ns) ? (int)WasmResult.Ok : (int)WasmResult.InvalidMemoryAccess;
    }

    // proxy_set_tick_period_milliseconds(period_ms) — always the root context's timer (cpp-host)
    public static int SetTickPeriod(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        var root = vm.Active?.Root ?? vm.Root;
        if (root is null) return (int)WasmResult.NotFound;
        root.SetTickPeriod((uint)a[0].AsInt32());
        return (int)WasmResult.Ok;
    }

    // proxy_get_configuration(ret_ptr_ptr, ret_size_ptr) — 0.1.0: VM config in on_vm_start, plugin config otherwise
    public static int GetConfiguration(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        var root = vm.Active?.Root ?? vm.Root;
        var bytes = root is { InVmStart: true } ? vm.Config.VmConfiguration : vm.Config.Configuration;
        return (int)GuestMemory.CopyOut(caller, vm, bytes.Span, a[0].AsInt32(), a[1].AsInt32());
    }
}
