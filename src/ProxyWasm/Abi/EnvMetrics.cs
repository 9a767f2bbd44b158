using ProxyWasm.Runtime;
using Wasmtime;

namespace ProxyWasm.Abi;

/// <summary>Metric host functions (spec §5.5, Envoy semantics) over the host's <see cref="Shared.MetricsRegistry"/>.</summary>
internal static class EnvMetrics
{
    // (metric_type, name_ptr, name_size, ret_metric_id_ptr)
    public static int Define(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        int type = a[0].AsInt32();
        if ((uint)type > (uint)MetricType.Histogram) return (int)WasmResult.BadArgument;
        var memory = GuestMemory.Of(caller, vm);
        if (!GuestMemory.TryReadString(memory, a[1].AsInt32(), a[2].AsInt32(), out var name)) return (int)WasmResult.InvalidMemoryAccess;
        if (name.Length == 0) return (int)WasmResult.BadArgument;
        if (!GuestMemory.TryWriteU32(memory, a[3].AsInt32(), 0)) return (int)WasmResult.InvalidMemoryAccess;
        var status = vm.Host.Metrics.Define(vm.Config.Name, (MetricType)type, name, out int id);
        GuestMemory.TryWriteU32(memory, a[3].AsInt32(), (uint)id);
        return (int)status;
    }

    // (metric_id, i64 delta)
    public static int Increment(Caller caller, ReadOnlySpan<HostArg> a)
        => (int)((WasmVm)caller.GetData()!).Host.Metrics.Increment(a[0].AsInt32(), a[1].AsInt64());

    // (metric_id, u64 value)
    public static int Record(Caller caller, ReadOnlySpan<HostArg> a)
        => (int)((WasmVm)caller.GetData()!).Host.Metrics.Record(a[0].AsInt32(), (ulong)a[1].AsInt64());

    // (metric_id, ret_u64_ptr)
    public static int Get(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        var status = vm.Host.Metrics.Get(a[0].AsInt32(), out long value);
        if (status != WasmResult.Ok) return (int)status;
        return GuestMemory.TryWriteU64(GuestMemory.Of(caller, vm), a[1].AsInt32(), (ulong)value) ? (int)WasmResult.Ok : (int)WasmResult.InvalidMemoryAccess;
    }
}
