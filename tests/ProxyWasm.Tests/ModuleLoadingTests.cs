using ProxyWasm.Abi;
using ProxyWasm.Http;
using ProxyWasm.Runtime;

namespace ProxyWasm.Tests;

public sealed class ModuleLoadingTests
{
    [Theory]
    [InlineData("probe.wat", AbiVersion.V0_2_1)]
    [InlineData("abi020.wat", AbiVersion.V0_2_0)]
    [InlineData("abi010.wat", AbiVersion.V0_1_0)]
    public void Detects_the_abi_version_from_the_marker_export(string file, AbiVersion expected)
    {
        using var t = new TestHost();
        var module = t.Load(file);
        Assert.Equal(expected, module.AbiVersion);
        Assert.Equal(64, module.Hash.Length);
        Assert.Equal(new FileInfo(TestHost.ModulePath(file)).Length, module.Size);
    }

    [Theory]
    [InlineData("noabi.wat", "missing or unknown Proxy-Wasm ABI version")]
    [InlineData("noalloc.wat", "missing malloc or proxy_on_memory_allocate")]
    public void Rejects_modules_without_marker_or_allocator_naming_the_file(string file, string reason)
    {
        using var t = new TestHost();
        var ex = Assert.Throws<ModuleLoadException>(() => t.Load(file));
        Assert.Contains(TestHost.ModulePath(file), ex.Message);
        Assert.Contains(reason, ex.Message);
    }

    [Fact]
    public void Rejects_invalid_bytes_with_the_module_name()
    {
        using var t = new TestHost();
        var ex = Assert.Throws<ModuleLoadException>(() => t.Host.LoadModule("broken", "\0asm garbage"u8));
        Assert.Contains("broken", ex.Message);
    }

    [Fact]
    public async Task Stubs_imports_with_a_foreign_signature_and_still_runs()
    {
        using var t = new TestHost();
        var module = t.Load("abi020.wat");
        Assert.Contains("env.proxy_grpc_call", module.StubbedImports);
        using var plugin = t.Host.CreatePlugin(module, new FilterPluginConfig { Name = "abi020", PoolSize = 1 });
        var stream = new InMemoryHttpStream();
        using var http = plugin.CreateHttpContext(stream);
        Assert.Equal(FilterOutcomeKind.Continue, (await http.OnRequestHeadersAsync(true)).Kind);
        Assert.True(stream.RequestHeaders.TryGetValue("x-abi", out var v) && v == "0.2.0");
        var guest = Guest.Root(plugin);
        Assert.Null(guest.TryCall("call_grpc")); // the stub traps (ngx: NYI host function ⇒ trap)
        Assert.Contains("unsupported host function env.proxy_grpc_call", guest.Vm.DeathReason);
    }

    [Fact]
    public void Body_callback_exports_are_reported_so_an_embedder_can_skip_body_phases()
    {
        using var t = new TestHost();
        static string Wat(string exports) => $"""
            (module (memory (export "memory") 1)
              (func (export "proxy_abi_version_0_2_1"))
              (func (export "malloc") (param i32) (result i32) (i32.const 1024))
              {exports})
            """;
        using var none = t.Host.LoadModule("none", System.Text.Encoding.UTF8.GetBytes(Wat("")));
        using var request = t.Host.LoadModule("req", System.Text.Encoding.UTF8.GetBytes(Wat(
            """(func (export "proxy_on_request_body") (param i32 i32 i32) (result i32) (i32.const 0))""")));
        using var response = t.Host.LoadModule("resp", System.Text.Encoding.UTF8.GetBytes(Wat(
            """(func (export "proxy_on_response_body") (param i32 i32 i32) (result i32) (i32.const 0))""")));
        Assert.False(none.ExportsRequestBody);
        Assert.False(none.ExportsResponseBody);
        Assert.True(request.ExportsRequestBody);
        Assert.False(request.ExportsResponseBody);
        Assert.False(response.ExportsRequestBody);
        Assert.True(response.ExportsResponseBody);
    }

    [Fact]
    public async Task A_callback_export_with_the_wrong_signature_is_treated_as_absent()
    {
        using var t = new TestHost();
        var wat = """
            (module (memory (export "memory") 1)
              (func (export "proxy_abi_version_0_2_1"))
              (func (export "malloc") (param i32) (result i32) (i32.const 1024))
              (func (export "proxy_on_request_headers") (param i32) (result i32) (unreachable)))
            """;
        using var plugin = t.Host.CreatePlugin(t.Host.LoadModule("sig", System.Text.Encoding.UTF8.GetBytes(wat)), new FilterPluginConfig { Name = "sig", PoolSize = 1 });
        using var http = plugin.CreateHttpContext(new InMemoryHttpStream());
        Assert.Equal(FilterOutcome.Continue, await http.OnRequestHeadersAsync(true));
    }

    [Fact]
    public void Compiled_code_cache_is_written_once_and_reused()
    {
        var dir = Path.Combine(Path.GetTempPath(), "pw-cache-" + Guid.NewGuid().ToString("N"));
        try
        {
            var wasm = Wasmtime.Module.ConvertText(File.ReadAllText(TestHost.ModulePath("probe.wat")));
            using (var t = new TestHost(cacheDir: dir))
            {
                t.Host.LoadModule("probe", wasm).Dispose();
            }
            var files = Directory.GetFiles(dir, "*.cwasm");
            Assert.Single(files);
            Assert.Contains(ModuleLoader.WasmtimeVersion, Path.GetFileName(files[0]));
            var written = File.GetLastWriteTimeUtc(files[0]);
            using (var t = new TestHost(cacheDir: dir))
            {
                var module = t.Host.LoadModule("probe", wasm);
                Assert.Equal(AbiVersion.V0_2_1, module.AbiVersion);
                using var plugin = t.Host.CreatePlugin(module, new FilterPluginConfig { Name = "probe", PoolSize = 1 });
            }
            Assert.Equal(written, File.GetLastWriteTimeUtc(files[0]));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void One_compiled_module_serves_several_plugins()
    {
        using var t = new TestHost();
        var module = t.Load("probe.wat");
        using var a = t.Host.CreatePlugin(module, new FilterPluginConfig { Name = "a", PoolSize = 2 });
        using var b = t.Host.CreatePlugin(module, new FilterPluginConfig { Name = "b", PoolSize = 1 });
        Assert.Equal(2, a.LiveVmCount);
        Assert.Equal(1, b.LiveVmCount);
    }
}
