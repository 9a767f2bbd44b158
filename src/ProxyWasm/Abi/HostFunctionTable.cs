using Microsoft.Extensions.Logging;
using Wasmtime;
using static ProxyWasm.Abi.AbiVersion;

namespace ProxyWasm.Abi;

/// <summary>
/// THE list of host functions (spec §1.6, §1.8, §3): one row per import, driving Linker registration, per-module
/// stubs and the conformance test. Everything is registered for every module whatever its ABI (spec
/// recommendation: extra definitions are harmless, a missing one breaks instantiation); ABI-dependent behaviour
/// switches on the detected version inside the function.
/// </summary>
internal static class HostFunctionTable
{
    public const string Env = "env";
    public static readonly string[] WasiModules = ["wasi_snapshot_preview1", "wasi_unstable"];

    public static IReadOnlyList<HostFunction> Functions { get; } = Build();

    private static readonly Dictionary<(string, string), HostFunction> ByName = Functions.ToDictionary(f => (f.Module, f.Name));

    private static List<HostFunction> Build()
    {
        var env = new List<HostFunction>
        {
            // lifecycle / context
            new(Env, "proxy_done", ">i", All, EnvStream.Done),
            new(Env, "proxy_set_effective_context", "i>i", All, EnvStream.SetEffectiveContext),
            // configuration, logging, time, timers
            new(Env, "proxy_get_configuration", "ii>i", V0_1_0, EnvLogging.GetConfiguration),
            new(Env, "proxy_log", "iii>i", All, EnvLogging.Log),
            new(Env, "proxy_get_log_level", "i>i", V0_2_1, EnvLogging.GetLogLevel),
            new(Env, "proxy_get_current_time_nanoseconds", "i>i", All, EnvLogging.GetCurrentTime),
            new(Env, "proxy_set_tick_period_milliseconds", "i>i", All, EnvLogging.SetTickPeriod),
            // buffers
            new(Env, "proxy_get_buffer_bytes", "iiiii>i", All, EnvBuffers.GetBufferBytes),
            new(Env, "proxy_get_buffer_status", "iii>i", All, EnvBuffers.GetBufferStatus),
            new(Env, "proxy_set_buffer_bytes", "iiiii>i", All, EnvBuffers.SetBufferBytes),
            // header maps
            new(Env, "proxy_get_header_map_pairs", "iii>i", All, EnvHeaders.GetPairs),
            new(Env, "proxy_set_header_map_pairs", "iii>i", All, EnvHeaders.SetPairs),
            new(Env, "proxy_get_header_map_size", "ii>i", All, EnvHeaders.GetSize),
            new(Env, "proxy_get_header_map_value", "iiiii>i", All, EnvHeaders.GetValue),
            new(Env, "proxy_add_header_map_value", "iiiii>i", All, EnvHeaders.AddValue),
            new(Env, "proxy_replace_header_map_value", "iiiii>i", All, EnvHeaders.ReplaceValue),
            new(Env, "proxy_remove_header_map_value", "iii>i", All, EnvHeaders.RemoveValue),
            // stream control, local response
            new(Env, "proxy_continue_stream", "i>i", V0_2, EnvStream.ContinueStream),
            new(Env, "proxy_close_stream", "i>i", V0_2, EnvStream.CloseStream),
            new(Env, "proxy_continue_request", ">i", V0_1_0, EnvStream.ContinueRequest),
            new(Env, "proxy_continue_response", ">i", V0_1_0, EnvStream.ContinueResponse),
            new(Env, "proxy_clear_route_cache", ">i", V0_1_0, EnvStream.ClearRouteCache),
            new(Env, "proxy_send_local_response", "iiiiiiii>i", All, EnvStream.SendLocalResponse),
            new(Env, "proxy_get_status", "iii>i", All, EnvStream.GetStatus),
            // HTTP and gRPC callouts
            new(Env, "proxy_http_call", "iiiiiiiiii>i", All, EnvCallouts.HttpCall),
            new(Env, "proxy_grpc_call", "iiiiiiiiiiii>i", All, EnvCallouts.Unimplemented),
            new(Env, "proxy_grpc_stream", "iiiiiiiii>i", All, EnvCallouts.Unimplemented),
            new(Env, "proxy_grpc_send", "iiii>i", All, EnvCallouts.Unimplemented),
            new(Env, "proxy_grpc_cancel", "i>i", All, EnvCallouts.Unimplemented),
            new(Env, "proxy_grpc_close", "i>i", All, EnvCallouts.Unimplemented),
            // shared data and queues
            new(Env, "proxy_get_shared_data", "iiiii>i", All, EnvShared.GetSharedData),
            new(Env, "proxy_set_shared_data", "iiiii>i", All, EnvShared.SetSharedData),
            new(Env, "proxy_register_shared_queue", "iii>i", All, EnvShared.RegisterQueue),
            new(Env, "proxy_resolve_shared_queue", "iiiii>i", All, EnvShared.ResolveQueue),
            new(Env, "proxy_enqueue_shared_queue", "iii>i", All, EnvShared.EnqueueQueue),
            new(Env, "proxy_dequeue_shared_queue", "iii>i", All, EnvShared.DequeueQueue),
            // metrics
            new(Env, "proxy_define_metric", "iiii>i", All, EnvMetrics.Define),
            new(Env, "proxy_increment_metric", "iI>i", All, EnvMetrics.Increment),
            new(Env, "proxy_record_metric", "iI>i", All, EnvMetrics.Record),
            new(Env, "proxy_get_metric", "ii>i", All, EnvMetrics.Get),
            // properties, foreign functions
            new(Env, "proxy_get_property", "iiii>i", All, EnvProperties.GetProperty),
            new(Env, "proxy_set_property", "iiii>i", All, EnvProperties.SetProperty),
            new(Env, "proxy_call_foreign_function", "iiiiii>i", All, EnvProperties.CallForeignFunction),
            // non-spec env imports seen in real modules (spec §1.6 last table)
            new(Env, "emscripten_notify_memory_growth", "i>", All, EnvProperties.NoOp),
            new(Env, "pthread_equal", "ii>i", All, EnvProperties.PthreadEqual),
            new(Env, "abort", "iiii>", All, EnvProperties.Abort),
        };
        foreach (var module in WasiModules) env.AddRange(Wasi.Functions(module));
        return env;
    }

    /// <summary>Host calls an allocator may make while the host is copying data into the guest (cpp-host list).</summary>
    public static readonly IReadOnlySet<string> AllowedDuringAllocation = new HashSet<string> { "proxy_log", "fd_write", "clock_time_get", "poll_oneoff" };

    public static bool TryFind(string module, string name, out HostFunction function) => ByName.TryGetValue((module, name), out function!);

    /// <summary>Defines every row on the process-wide linker.</summary>
    public static void DefineAll(Linker linker)
    {
        foreach (var f in Functions) HostFunctionBinder.Define(linker, f);
    }

    /// <summary>
    /// Stub for an import the table lacks or declares with another signature (e.g. the AssemblyScript SDK's
    /// 10-parameter <c>proxy_grpc_call</c>): WASI names answer NOSYS, everything else traps when called.
    /// </summary>
    public static void DefineStub(Linker linker, FunctionImport import, ILogger logger, string moduleName)
    {
        bool wasi = WasiModules.Contains(import.ModuleName);
        bool nosys = wasi && import.Results.Count == 1 && import.Results[0] == ValueKind.Int32;
        string module = import.ModuleName, name = import.Name;
        linker.DefineFunction(module, name, (Caller caller, ReadOnlySpan<ValueBox> args, Span<ValueBox> results) =>
        {
            if (nosys)
            {
                results[0] = (int)WasiErrno.NoSys;
                return;
            }
            WasmLogAbi.Unsupported(logger, moduleName, module, name);
            throw new InvalidOperationException($"unsupported host function {module}.{name}");
        }, import.Parameters, import.Results);
    }
}
