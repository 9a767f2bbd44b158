using ProxyWasm.Abi;
using ProxyWasm.Runtime;

namespace ProxyWasm.Tests;

/// <summary>The host-function table against the spec's complete name list (proxy-wasm-abi.md §1.6, §1.8, §3).</summary>
public sealed class HostFunctionTableTests
{
    // name, signature (params>results), ABI versions — copied from the spec tables, not from the code
    public static readonly TheoryData<string, string, AbiVersion> SpecEnv = new()
    {
        { "proxy_done", ">i", AbiVersion.All }, { "proxy_set_effective_context", "i>i", AbiVersion.All },
        { "proxy_get_configuration", "ii>i", AbiVersion.V0_1_0 }, { "proxy_log", "iii>i", AbiVersion.All },
        { "proxy_get_log_level", "i>i", AbiVersion.V0_2_1 }, { "proxy_get_current_time_nanoseconds", "i>i", AbiVersion.All },
        { "proxy_set_tick_period_milliseconds", "i>i", AbiVersion.All }, { "proxy_get_buffer_bytes", "iiiii>i", AbiVersion.All },
        { "proxy_get_buffer_status", "iii>i", AbiVersion.All }, { "proxy_set_buffer_bytes", "iiiii>i", AbiVersion.All },
        { "proxy_get_header_map_pairs", "iii>i", AbiVersion.All }, { "proxy_set_header_map_pairs", "iii>i", AbiVersion.All },
        { "proxy_get_header_map_size", "ii>i", AbiVersion.All }, { "proxy_get_header_map_value", "iiiii>i", AbiVersion.All },
        { "proxy_add_header_map_value", "iiiii>i", AbiVersion.All }, { "proxy_replace_header_map_value", "iiiii>i", AbiVersion.All },
        { "proxy_remove_header_map_value", "iii>i", AbiVersion.All }, { "proxy_continue_stream", "i>i", AbiVersion.V0_2 },
        { "proxy_close_stream", "i>i", AbiVersion.V0_2 }, { "proxy_continue_request", ">i", AbiVersion.V0_1_0 },
        { "proxy_continue_response", ">i", AbiVersion.V0_1_0 }, { "proxy_clear_route_cache", ">i", AbiVersion.V0_1_0 },
        { "proxy_send_local_response", "iiiiiiii>i", AbiVersion.All }, { "proxy_get_status", "iii>i", AbiVersion.All },
        { "proxy_http_call", "iiiiiiiiii>i", AbiVersion.All }, { "proxy_grpc_call", "iiiiiiiiiiii>i", AbiVersion.All },
        { "proxy_grpc_stream", "iiiiiiiii>i", AbiVersion.All }, { "proxy_grpc_send", "iiii>i", AbiVersion.All },
        { "proxy_grpc_cancel", "i>i", AbiVersion.All }, { "proxy_grpc_close", "i>i", AbiVersion.All },
        { "proxy_get_shared_data", "iiiii>i", AbiVersion.All }, { "proxy_set_shared_data", "iiiii>i", AbiVersion.All },
        { "proxy_register_shared_queue", "iii>i", AbiVersion.All }, { "proxy_resolve_shared_queue", "iiiii>i", AbiVersion.All },
        { "proxy_enqueue_shared_queue", "iii>i", AbiVersion.All }, { "proxy_dequeue_shared_queue", "iii>i", AbiVersion.All },
        { "proxy_define_metric", "iiii>i", AbiVersion.All }, { "proxy_increment_metric", "iI>i", AbiVersion.All },
        { "proxy_record_metric", "iI>i", AbiVersion.All }, { "proxy_get_metric", "ii>i", AbiVersion.All },
        { "proxy_get_property", "iiii>i", AbiVersion.All }, { "proxy_set_property", "iiii>i", AbiVersion.All },
        { "proxy_call_foreign_function", "iiiiii>i", AbiVersion.All }, { "emscripten_notify_memory_growth", "i>", AbiVersion.All },
        { "pthread_equal", "ii>i", AbiVersion.All },
    };

    public static readonly TheoryData<string, string> SpecWasi = new()
    {
        { "fd_write", "iiii>i" }, { "fd_read", "iiii>i" }, { "fd_seek", "iIii>i" }, { "fd_close", "i>i" },
        { "fd_fdstat_get", "ii>i" }, { "fd_fdstat_set_flags", "ii>i" }, { "fd_prestat_get", "ii>i" }, { "fd_prestat_dir_name", "iii>i" },
        { "path_open", "iiiiiIIii>i" }, { "environ_sizes_get", "ii>i" }, { "environ_get", "ii>i" }, { "args_sizes_get", "ii>i" },
        { "args_get", "ii>i" }, { "clock_time_get", "iIi>i" }, { "clock_res_get", "ii>i" }, { "random_get", "ii>i" },
        { "proc_exit", "i>" }, { "sched_yield", ">i" }, { "poll_oneoff", "iiii>i" }, { "fd_advise", "iIIi>i" },
        { "fd_allocate", "iII>i" }, { "fd_datasync", "i>i" }, { "fd_fdstat_set_rights", "iII>i" }, { "fd_filestat_get", "ii>i" },
        { "fd_filestat_set_size", "iI>i" }, { "fd_filestat_set_times", "iIIi>i" }, { "fd_pread", "iiiIi>i" }, { "fd_pwrite", "iiiIi>i" },
        { "fd_readdir", "iiiIi>i" }, { "fd_renumber", "ii>i" }, { "fd_sync", "i>i" }, { "fd_tell", "ii>i" },
        { "path_create_directory", "iii>i" }, { "path_filestat_get", "iiiii>i" }, { "path_filestat_set_times", "iiiiIIi>i" },
        { "path_link", "iiiiiii>i" }, { "path_readlink", "iiiiii>i" }, { "path_remove_directory", "iii>i" },
        { "path_rename", "iiiiii>i" }, { "path_symlink", "iiiii>i" }, { "path_unlink_file", "iii>i" }, { "sock_accept", "iii>i" },
        { "sock_recv", "iiiiii>i" }, { "sock_send", "iiiii>i" }, { "sock_shutdown", "ii>i" },
    };

    [Theory]
    [MemberData(nameof(SpecEnv))]
    public void Every_spec_env_function_is_in_the_table_with_its_signature_and_versions(string name, string signature, AbiVersion versions)
    {
        Assert.True(HostFunctionTable.TryFind("env", name, out var f), name);
        Assert.Equal(signature, f.Signature);
        Assert.Equal(versions, f.Versions);
    }

    [Theory]
    [MemberData(nameof(SpecWasi))]
    public void Every_wasi_function_is_defined_under_both_module_names(string name, string signature)
    {
        foreach (var module in new[] { "wasi_snapshot_preview1", "wasi_unstable" })
        {
            Assert.True(HostFunctionTable.TryFind(module, name, out var f), $"{module}.{name}");
            Assert.Equal(signature, f.Signature);
        }
    }

    [Fact]
    public void The_table_has_nothing_beyond_the_spec_lists()
    {
        var spec = SpecEnv.Select(r => ("env", (string)r[0])).Append(("env", "abort"))
            .Concat(SpecWasi.SelectMany(r => new[] { ("wasi_snapshot_preview1", (string)r[0]), ("wasi_unstable", (string)r[0]) }))
            .ToHashSet();
        var table = HostFunctionTable.Functions.Select(f => (f.Module, f.Name)).ToHashSet();
        Assert.Empty(table.Except(spec));
        Assert.Empty(spec.Except(table));
    }

    [Fact]
    public void A_module_importing_every_env_function_links_without_stubs()
    {
        using var t = new TestHost();
        var module = t.Load("probe.wat");
        Assert.Empty(module.StubbedImports);
        using var plugin = t.Host.CreatePlugin(module, new FilterPluginConfig { Name = "probe", PoolSize = 1 });
        Assert.Equal(1, plugin.LiveVmCount);
    }
}
