using BenchmarkDotNet.Attributes;
using ProxyWasm.Contexts;
using ProxyWasm.Http;
using ProxyWasm.Runtime;

namespace ProxyWasm.Bench;

/// <summary>
/// The fixed cost of one filter per request (issue #16 goal 3, W1): the whole life of a GET's context on the
/// do-nothing filter that exports every callback (filters/test/noop.wasm): context create, request headers,
/// response headers, one response body chunk with its end, done → log → delete, then the lease returned. Also the
/// pieces: one guest callback through the phase driver, and the create/done/delete pair alone.
/// </summary>
[MemoryDiagnoser]
public class FilterRequestBenchmarks
{
    private ModuleFixture _fixture = null!;
    private FilterPlugin _plugin = null!;
    private InMemoryHttpStream _stream = null!;
    private HttpFilterContext _context = null!;

    [GlobalSetup]
    public void Setup()
    {
        var stream = new InMemoryHttpStream("GET", "/", "localhost", "http");
        stream.RequestHeaders.Add("user-agent", "wrk");
        stream.ResponseHeaders.Add("content-type", "text/plain");
        _fixture = new ModuleFixture("noop.wasm", stream);
        (_plugin, _stream, _context) = (_fixture.Plugin, _fixture.Stream, _fixture.Context);
        _stream.ResponseBody.Set("hello\n"u8);
    }

    [GlobalCleanup]
    public void Cleanup() => _fixture.Dispose();

    /// <summary>What W1 runs per request.</summary>
    [Benchmark]
    public FilterOutcome WholeRequest()
    {
        using var context = _plugin.CreateHttpContextAsync(_stream).Result;
        context.OnRequestHeadersAsync(true).GetAwaiter().GetResult();
        context.OnResponseHeadersAsync(false).GetAwaiter().GetResult();
        context.OnResponseBodyAsync(true).GetAwaiter().GetResult();
        return context.OnDoneAsync().GetAwaiter().GetResult();
    }

    /// <summary>One callback that returns Continue at once, through the phase driver.</summary>
    [Benchmark]
    public FilterOutcome OneCallback() => _context.OnResponseHeadersAsync(false).GetAwaiter().GetResult();
}
