using BenchmarkDotNet.Attributes;
using ProxyWasm.Contexts;
using ProxyWasm.Http;
using ProxyWasm.Runtime;

namespace ProxyWasm.Bench;

/// <summary>
/// The performance targets of the host (issue #3): one header operation, one host call, a no-op
/// on_request_headers with context create and destroy. Module: Modules/hostops.wat; each loop export repeats one
/// host operation <see cref="Ops"/> times inside one guarded guest call, so results are per operation.
/// The request carries a typical 10-header map.
/// </summary>
[MemoryDiagnoser]
public class HostOpBenchmarks
{
    private const int Ops = 100;
    private ModuleFixture _fixture = null!;
    private FilterPlugin _plugin = null!;
    private InMemoryHttpStream _stream = null!;
    private HttpFilterContext _context = null!;
    private WasmVm _vm = null!;
    private Func<int, int> _get = null!, _replace = null!, _addRemove = null!, _pairs = null!, _time = null!;

    [GlobalSetup]
    public void Setup()
    {
        var stream = new InMemoryHttpStream("GET", "/api/v1/items?page=2", "api.example.com", "https");
        foreach (var (name, value) in new[]
        {
            ("user-agent", "curl/8.5.0"), ("accept", "*/*"), ("accept-encoding", "gzip, br"),
            ("x-forwarded-for", "10.0.0.1"), ("authorization", "Bearer abc.def.ghi"), ("x-request-id", "r-1"),
        }) stream.RequestHeaders.Add(name, value);
        _fixture = new ModuleFixture("hostops.wat", stream);
        (_plugin, _stream, _context, _vm) = (_fixture.Plugin, _fixture.Stream, _fixture.Context, _fixture.Vm);
        var instance = _vm.Instance!;
        _get = Export(instance, "loop_get");
        _replace = Export(instance, "loop_replace");
        _addRemove = Export(instance, "loop_add_remove");
        _pairs = Export(instance, "loop_pairs");
        _time = Export(instance, "loop_time");
    }

    private static Func<int, int> Export(Wasmtime.Instance instance, string name)
        => instance.GetFunction<int, int>(name) ?? throw new InvalidOperationException($"no export {name}");

    [GlobalCleanup]
    public void Cleanup() => _fixture.Dispose();

    private int Loop(Func<int, int> fn)
    {
        lock (_vm.Gate)
        {
            return _vm.CallFunc(_context.Stream, "bench", fn, Ops, 0, out _);
        }
    }

    /// <summary>proxy_get_current_time_nanoseconds: host-call dispatch plus an 8-byte write.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public int HostCall() => Loop(_time);

    /// <summary>proxy_get_header_map_value of a present header (copy-out through the guest allocator).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public int HeaderGet() => Loop(_get);

    /// <summary>proxy_replace_header_map_value of a present header.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public int HeaderReplace() => Loop(_replace);

    /// <summary>proxy_add_header_map_value then proxy_remove_header_map_value (per operation: half an iteration).</summary>
    [Benchmark(OperationsPerInvoke = 2 * Ops)]
    public int HeaderAddOrRemove() => Loop(_addRemove);

    /// <summary>proxy_get_header_map_pairs of the 10-header request map.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public int HeaderPairs() => Loop(_pairs);

    /// <summary>A no-op filter's request: proxy_on_context_create, on_request_headers, on_done, on_log, on_delete.</summary>
    [Benchmark]
    public FilterOutcome NoopRequestWithContextLifecycle()
    {
        using var context = _plugin.CreateHttpContext(_stream);
        var outcome = context.OnRequestHeadersAsync(true).Result;
        context.OnDoneAsync().GetAwaiter().GetResult();
        return outcome;
    }
}
