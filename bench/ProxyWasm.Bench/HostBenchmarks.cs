using BenchmarkDotNet.Attributes;
using ProxyWasm.Contexts;
using ProxyWasm.Http;
using ProxyWasm.Runtime;
using Wasmtime;

namespace ProxyWasm.Bench;

/// <summary>
/// Host overheads on the probe test module (tests/ProxyWasm.Tests/Modules/probe.wat): a guest callback that returns
/// at once, on_request_headers doing three header operations, an HTTP context's create → done → delete, a guest
/// export calling one host function, and creating a VM (instantiate + root context + configure).
/// </summary>
[MemoryDiagnoser]
public class HostBenchmarks
{
    private ModuleFixture _fixture = null!;
    private WasmHost _host = null!;
    private FilterModule _module = null!;
    private FilterPlugin _plugin = null!;
    private InMemoryHttpStream _stream = null!;
    private HttpFilterContext _context = null!;
    private WasmVm _vm = null!;
    private ValueBox[] _timeArgs = null!;

    [GlobalSetup]
    public void Setup()
    {
        _fixture = new ModuleFixture("probe.wat", new InMemoryHttpStream());
        (_host, _module, _plugin, _stream, _context, _vm) = (_fixture.Host, _fixture.Module, _fixture.Plugin, _fixture.Stream, _fixture.Context, _fixture.Vm);
        int scratch = _vm.InvokeExport(null, "malloc", 8) ?? throw new InvalidOperationException();
        _timeArgs = [scratch];
    }

    [GlobalCleanup]
    public void Cleanup() => _fixture.Dispose();

    /// <summary>Host → guest round trip through the phase driver (on_response_headers returns Continue at once).</summary>
    [Benchmark]
    public FilterOutcome GuestCallbackRoundTrip() => _context.OnResponseHeadersAsync(false).Result;

    /// <summary>on_request_headers with add + replace + remove on the request map.</summary>
    [Benchmark]
    public FilterOutcome RequestHeadersThreeOps()
    {
        var outcome = _context.OnRequestHeadersAsync(true).Result;
        _stream.RequestHeaders.Remove("x-wasm");
        return outcome;
    }

    /// <summary>proxy_on_context_create → proxy_on_done → proxy_on_log → proxy_on_delete.</summary>
    [Benchmark]
    public FilterOutcome ContextCreateAndDestroy()
    {
        using var context = _plugin.CreateHttpContext(_stream);
        return context.OnDoneAsync().Result;
    }

    /// <summary>Guest export calling proxy_get_current_time_nanoseconds once (guest → host → guest).</summary>
    [Benchmark]
    public int? GuestToHostCall() => _vm.InvokeExport(_vm.Root, "call_proxy_get_current_time_nanoseconds", _timeArgs);

    /// <summary>A scratch VM: Store + instantiate + root context create, vm_start, configure, then dispose.</summary>
    [Benchmark]
    public bool VmCreation() => _host.Validate(_module, "bench"u8.ToArray()).Success;
}
