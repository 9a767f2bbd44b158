using ProxyWasm.Http;
using ProxyWasm.Runtime;
using Xunit;

namespace ProxyWasm.Tests;

/// <summary>
/// What the host spends around a guest callback (issue #16 goal 3: a filter that does nothing must cost about its
/// guest calls): no allocation per callback, the life of a request's context allocating only its own objects, and
/// the per-call deadline still armed when consecutive callbacks skip re-arming it within one epoch tick.
/// </summary>
public sealed class CallCostTests
{
    private static long LeastBytesPerBatch(Action action, int batch)
    {
        for (var i = 0; i < 200; i++) action();
        var least = long.MaxValue;
        for (var run = 0; run < 3; run++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < batch; i++) action();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }

    [Fact]
    public void A_guest_callback_that_continues_does_not_allocate()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("probe.wat", name: "probe");
        using var http = plugin.CreateHttpContext(new InMemoryHttpStream());
        Assert.Equal(0, LeastBytesPerBatch(() => http.OnResponseHeadersAsync(false).GetAwaiter().GetResult(), 2_000));
        // and its duration was recorded under its name each time (the figures are kept without allocating)
        var headers = Assert.Single(t.Host.FilterStats.For("probe").Callbacks(), c => c.Callback == "proxy_on_response_headers");
        Assert.True(headers.Count >= 6_200, $"{headers.Count}");
    }

    [Fact]
    public void A_request_context_from_create_to_delete_allocates_only_its_own_objects()
    {
        // the benchmark's do-nothing filter, which exports every callback (W1)
        using var h = new RealFilters.RealFilterHost(minimumLevel: Microsoft.Extensions.Logging.LogLevel.Warning);
        var plugin = h.Start("filters/test/noop.wasm");
        var stream = new InMemoryHttpStream();
        stream.ResponseBody.Set("hello\n"u8);
        var perRequest = LeastBytesPerBatch(() =>
        {
            using var http = plugin.CreateHttpContextAsync(stream).Result;
            http.OnRequestHeadersAsync(true).GetAwaiter().GetResult();
            http.OnResponseHeadersAsync(false).GetAwaiter().GetResult();
            http.OnResponseBodyAsync(true).GetAwaiter().GetResult();
            http.OnDoneAsync().GetAwaiter().GetResult();
        }, 1_000) / 1_000;
        // the StreamContext, the HttpFilterContext and the VM's context table entry: ~170 bytes
        Assert.InRange(perRequest, 1, 256);
    }

    [Fact]
    public async Task A_spinning_callback_after_many_quick_ones_within_a_tick_is_still_stopped_by_its_deadline()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("trap.wat", "L", limits: new WasmLimits { CallDeadline = TimeSpan.FromMilliseconds(50) }, name: "spinner");
        using var http = plugin.CreateHttpContext(new InMemoryHttpStream());
        // quick callbacks (the first arms the deadline, the others within the same tick find it armed)
        for (var i = 0; i < 1_000; i++) Assert.Equal(FilterOutcome.Continue, await http.OnResponseHeadersAsync(false));
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        Assert.Equal(FilterOutcomeKind.Failed, (await http.OnRequestHeadersAsync(true)).Kind);
        Assert.InRange(System.Diagnostics.Stopwatch.GetElapsedTime(started), TimeSpan.FromMilliseconds(40), TimeSpan.FromSeconds(5));
        Assert.Equal(1, t.Host.FilterStats.For("spinner").DeadlineHits);
    }
}
