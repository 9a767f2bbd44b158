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
    public async Task Header_callbacks_a_body_only_filter_does_not_export_do_not_count_the_headers()
    {
        // bench-body exports on_request_body only (benchmark WB): its header steps must not walk the embedder's header
        // maps for an argument no callback receives (the gateway's maps enumerate ASP.NET's headers to count them)
        using var h = new RealFilters.RealFilterHost(minimumLevel: Microsoft.Extensions.Logging.LogLevel.Warning);
        var plugin = h.Start("filters/test/bench-body.wasm");
        var stream = new CountingStream();
        using var http = await plugin.CreateHttpContextAsync(stream);
        Assert.Equal(FilterOutcome.Continue, await http.OnRequestHeadersAsync(false));
        Assert.Equal(FilterOutcome.Continue, await http.OnResponseHeadersAsync(false));
        Assert.Equal(0, stream.CountReads);
        // an exported callback still gets its argument (on_request_body: the body's size) and runs
        stream.RequestBody.Set("abc"u8);
        Assert.Equal(FilterOutcome.Continue, await http.OnRequestBodyAsync(true));
        Assert.Equal("ABC"u8.ToArray(), stream.RequestBody.ToArray());
    }

    /// <summary>An in-memory stream whose header maps count how often their size is asked.</summary>
    private sealed class CountingStream : IHttpStreamHost
    {
        private readonly InMemoryHttpStream _inner = new("POST");
        public CountingStream()
        {
            RequestHeaders = new CountingMap(this, _inner.RequestHeaders);
            ResponseHeaders = new CountingMap(this, _inner.ResponseHeaders);
        }
        public int CountReads { get; set; }
        public IHeaderMap RequestHeaders { get; }
        public IHeaderMap RequestTrailers => _inner.RequestTrailers;
        public IHeaderMap ResponseHeaders { get; }
        public IHeaderMap ResponseTrailers => _inner.ResponseTrailers;
        public BodyBuffer RequestBody => _inner.RequestBody;
        public BodyBuffer ResponseBody => _inner.ResponseBody;
        public IPropertyProvider? Properties => _inner.Properties;
    }

    private sealed class CountingMap(CountingStream owner, IHeaderMap inner) : IHeaderMap
    {
        public int Count
        {
            get
            {
                owner.CountReads++;
                return inner.Count;
            }
        }
        public bool TryGetValue(string name, out string value) => inner.TryGetValue(name, out value);
        public void Add(string name, string value) => inner.Add(name, value);
        public void Replace(string name, string value) => inner.Replace(name, value);
        public void Remove(string name) => inner.Remove(name);
        public void Clear() => inner.Clear();
        public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => inner.GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    [Fact]
    public void A_body_buffer_released_and_filled_again_takes_its_storage_from_the_pool()
    {
        // per request the gateway fills a filter's body buffer and releases it at the request's end (WB: a 1 KiB body)
        var body = new BodyBuffer();
        var kib = new byte[1024];
        kib.AsSpan().Fill((byte)'a');
        Assert.Equal(0, LeastBytesPerBatch(() =>
        {
            body.Set(kib);
            body.Splice(0, body.Length, kib); // the filter's replace-all, in place
            body.Release();
        }, 1_000));
        // released: empty, and usable again
        Assert.Equal(0, body.Length);
        body.Append("xy"u8);
        body.Splice(1, 0, "-"u8);
        Assert.Equal("x-y"u8.ToArray(), body.ToArray());
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
