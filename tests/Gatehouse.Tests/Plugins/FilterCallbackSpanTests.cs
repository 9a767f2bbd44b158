using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Wasm;

namespace Gatehouse.Tests.Plugins;

/// <summary>
/// A span per Proxy-Wasm filter callback (<c>tracing_instrumentations</c> <c>wasm_filters</c>), received by a real
/// OTLP/HTTP collector (<see cref="OtlpReceiver"/>) from requests through real filters: <c>phases</c> (every callback
/// exported, actions by configuration; a copy named <c>phases-b</c> to have two distinct filters) and the
/// <c>add-headers</c> example (headers callbacks only).
/// </summary>
public sealed class FilterCallbackSpanTests : IAsyncLifetime
{
    private PluginGateway _gw = null!;
    private OtlpReceiver _collector = null!;
    private string _filters = null!;
    private string _routeId = null!;

    public async Task InitializeAsync()
    {
        _filters = WasmPaths.CopyFilters(WasmPaths.Examples, "add-headers");
        File.Copy(Path.Combine(WasmPaths.Repo, "filters", "test", "phases.wasm"), Path.Combine(_filters, "phases.wasm"));
        File.Copy(Path.Combine(WasmPaths.Repo, "filters", "test", "phases.wasm"), Path.Combine(_filters, "phases-b.wasm"));
        _gw = await PluginGateway.StartAsync(configure: o => o with
        {
            Wasm = true, WasmFiltersPath = _filters, TracingInstrumentations = ["wasm_filters"], TracingSamplingRate = 1,
        });
        _collector = await OtlpReceiver.StartAsync();
        (_, _routeId) = await _gw.ServiceAndRouteAsync("svc", "/api");
        await _gw.CreateAsync("/plugins", new
        {
            name = "opentelemetry",
            config = new { traces_endpoint = _collector.TracesUrl, queue = new { max_coalescing_delay = 0.05 } },
        });
    }

    public async Task DisposeAsync()
    {
        await _gw.DisposeAsync();
        await _collector.DisposeAsync();
        Directory.Delete(_filters, recursive: true);
    }

    /// <summary>A chain on the route; <c>phases</c> has no meta.json schema, so each config is sent as a JSON string.</summary>
    private Task Chain(string json)
    {
        var chain = JsonNode.Parse(json)!;
        foreach (var filter in chain["filters"]!.AsArray())
            if (filter!["config"] is JsonObject config && !((string)filter["name"]!).StartsWith("add-", StringComparison.Ordinal))
                filter["config"] = config.ToJsonString();
        return _gw.CreateAsync("/routes/svc-route/filter-chains", chain.ToJsonString());
    }

    private async Task<int> Post(string path, string body)
    {
        using var response = await _gw.Proxy.PostAsync(path, new StringContent(body, Encoding.UTF8, "text/plain"));
        await response.Content.ReadAsByteArrayAsync();
        return (int)response.StatusCode;
    }

    /// <summary>The filter spans of the one request traced, in the order they started.</summary>
    private async Task<List<ReceivedSpan>> FilterSpans()
    {
        for (var i = 0; i < 500 && !_collector.Spans.Any(s => s.Name == "kong"); i++) await Task.Delay(20);
        var spans = _collector.Spans;
        var root = Assert.Single(spans, s => s.Name == "kong");
        var filters = spans.Where(s => s.Name.StartsWith("gatehouse.wasm.", StringComparison.Ordinal)).OrderBy(s => s.StartNanos).ToList();
        Assert.All(filters, s =>
        {
            Assert.Equal(root.TraceId, s.TraceId);
            Assert.Equal(root.SpanId, s.ParentSpanId);
            Assert.True(s.StartNanos > 0 && s.EndNanos >= s.StartNanos, $"{s.Name}: {s.StartNanos}..{s.EndNanos}");
            Assert.True(s.StartNanos >= root.StartNanos, $"{s.Name} starts before the request");
        });
        return filters;
    }

    private static string Callback(ReceivedSpan s) => (string)s.Attributes["gatehouse.filter.callback"];

    [Fact]
    public async Task Two_filters_with_body_callbacks_get_a_span_per_callback_in_order_with_their_attributes()
    {
        await Chain("""{"name":"both","filters":[{"name":"phases","config":{"tag":"a"}},{"name":"phases-b","config":{"tag":"b"}}]}""");
        Assert.Equal(200, await Post("/api/body", "hello body"));
        var spans = await FilterSpans();

        string[] expected = ["on_request_headers", "on_request_body", "on_response_headers", "on_response_body", "on_done", "on_log", "on_delete"];
        string[] phases = ["access", "content", "header_filter", "body_filter", "log", "log", "log"];
        foreach (var filter in new[] { "phases", "phases-b" })
        {
            var own = spans.Where(s => s.Name == "gatehouse.wasm." + filter).ToList();
            Assert.Equal(expected, own.Select(Callback));
            Assert.Equal(phases, own.Select(s => (string)s.Attributes["gatehouse.phase"]));
            Assert.All(own, s =>
            {
                Assert.Equal(filter, s.Attributes["gatehouse.filter.name"]);
                Assert.Equal("route", s.Attributes["gatehouse.filter_chain.scope"]);
                Assert.Equal("both", s.Attributes["gatehouse.filter_chain.name"]);
                Assert.True(Guid.TryParse((string)s.Attributes["gatehouse.filter_chain.id"], out _));
                Assert.Equal("continue", s.Attributes["gatehouse.filter.outcome"]);
                Assert.Equal(0, s.StatusCode);
            });
            Assert.Equal(1L, own.Single(s => Callback(s) == "on_request_body").Attributes["gatehouse.filter.calls"]);
        }
        // chain order within each phase: phases before phases-b
        var order = spans.Select(s => (Callback(s), s.Name)).ToList();
        Assert.True(order.IndexOf(("on_request_headers", "gatehouse.wasm.phases")) < order.IndexOf(("on_request_headers", "gatehouse.wasm.phases-b")));
        Assert.True(order.IndexOf(("on_response_headers", "gatehouse.wasm.phases-b")) < order.IndexOf(("on_response_body", "gatehouse.wasm.phases")));
    }

    [Fact]
    public async Task A_filter_that_buffers_the_request_body_has_the_pause_outcome_and_its_call_count()
    {
        await Chain("""{"filters":[{"name":"phases","config":{"request_body":"buffer"}}]}""");
        // a body in three chunks: the filter pauses (buffers) until end of stream
        var content = new StreamContent(new ChunkedBody(["one ", "two ", "three"]));
        using var response = await _gw.Proxy.PostAsync("/api/buffered", content);
        Assert.Equal(200, (int)response.StatusCode);
        var body = Assert.Single(await FilterSpans(), s => Callback(s) == "on_request_body");
        Assert.Equal("pause", body.Attributes["gatehouse.filter.outcome"]);
        Assert.True((long)body.Attributes["gatehouse.filter.calls"] >= 2, $"calls: {body.Attributes["gatehouse.filter.calls"]}");
    }

    [Fact]
    public async Task A_filter_paused_on_the_request_body_by_an_http_call_has_pause_then_its_response_callback()
    {
        await Chain("""{"filters":[{"name":"phases","config":{"request_body":{"action":"http_call","upstream":"svc","path":"/check","when_eos":true,"then":"continue"}}}]}""");
        Assert.Equal(200, await Post("/api/call", "payload"));
        var spans = await FilterSpans();
        var body = Assert.Single(spans, s => Callback(s) == "on_request_body");
        Assert.Equal("pause", body.Attributes["gatehouse.filter.outcome"]);
        var response = Assert.Single(spans, s => Callback(s) == "on_http_call_response");
        Assert.Equal("continue", response.Attributes["gatehouse.filter.outcome"]);
        Assert.Equal("content", response.Attributes["gatehouse.phase"]); // the phase the call paused
        Assert.True(response.StartNanos >= body.EndNanos);
        Assert.True(spans.IndexOf(response) < spans.FindIndex(s => Callback(s) == "on_response_headers"));
    }

    [Fact]
    public async Task A_trap_in_on_response_body_is_a_trap_span_with_an_error_status_and_ends_the_filters_callbacks()
    {
        await Chain("""{"filters":[{"name":"phases","config":{"response_body":"trap"}}]}""");
        using var response = await _gw.Proxy.GetAsync("/api/trap");
        try { await response.Content.ReadAsByteArrayAsync(); } catch (HttpRequestException) { } // the body may be cut
        var spans = await FilterSpans();
        var body = Assert.Single(spans, s => Callback(s) == "on_response_body");
        Assert.Equal("trap", body.Attributes["gatehouse.filter.outcome"]);
        Assert.Equal(2, body.StatusCode); // STATUS_CODE_ERROR
        Assert.Contains("unreachable", body.StatusMessage);
        Assert.DoesNotContain(spans, s => Callback(s) is "on_log" or "on_done"); // a failed VM gets no more callbacks
    }

    [Fact]
    public async Task A_filter_without_body_callbacks_has_no_body_spans()
    {
        await Chain("""{"filters":[{"name":"add-headers","config":{"request":{"add":{"x-a":"1"}}}},{"name":"phases","config":{}}]}""");
        Assert.Equal(200, await Post("/api/headers-only", "a body"));
        var spans = await FilterSpans();
        // add-headers exports only the two headers callbacks (no on_done, on_log, on_delete either)
        Assert.Equal(["on_request_headers", "on_response_headers"], spans.Where(s => s.Name == "gatehouse.wasm.add-headers").Select(Callback));
        Assert.Contains(spans, s => s.Name == "gatehouse.wasm.phases" && Callback(s) == "on_request_body");
    }

    [Fact]
    public async Task On_log_has_a_span_in_the_log_phase_after_the_response()
    {
        await Chain("""{"filters":[{"name":"phases","config":{"log":{"action":"log","message":"bye"}}}]}""");
        using var response = await _gw.Proxy.GetAsync("/api/log");
        Assert.Equal(200, (int)response.StatusCode);
        var spans = await FilterSpans();
        var log = Assert.Single(spans, s => Callback(s) == "on_log");
        Assert.Equal("log", log.Attributes["gatehouse.phase"]);
        Assert.Equal("continue", log.Attributes["gatehouse.filter.outcome"]);
        Assert.True(log.StartNanos >= spans.Single(s => Callback(s) == "on_response_headers").EndNanos);
    }

    [Fact]
    public async Task A_local_response_from_on_request_headers_is_that_outcome_and_the_response_steps_still_have_spans()
    {
        await Chain("""{"filters":[{"name":"phases","config":{"request_headers":{"action":"local_response","status":403,"body":"no"}}}]}""");
        using var response = await _gw.Proxy.GetAsync("/api/denied");
        Assert.Equal(403, (int)response.StatusCode);
        var spans = await FilterSpans();
        Assert.Equal("local_response", spans.Single(s => Callback(s) == "on_request_headers").Attributes["gatehouse.filter.outcome"]);
        Assert.Contains(spans, s => Callback(s) == "on_response_headers");
    }

    [Fact]
    public async Task A_service_chain_without_a_name_is_told_by_its_scope_and_id()
    {
        var chain = await _gw.CreateAsync("/services/svc/filter-chains", JsonNode.Parse("""{"filters":[{"name":"add-headers","config":{"request":{"add":{"x-a":"1"}}}}]}""")!.ToJsonString());
        using var response = await _gw.Proxy.GetAsync("/api/service");
        Assert.Equal(200, (int)response.StatusCode);
        var spans = await FilterSpans();
        Assert.Equal(2, spans.Count);
        Assert.All(spans, s =>
        {
            Assert.Equal("service", s.Attributes["gatehouse.filter_chain.scope"]);
            Assert.Equal((string)chain["id"]!, s.Attributes["gatehouse.filter_chain.id"]);
            Assert.False(s.Attributes.ContainsKey("gatehouse.filter_chain.name"));
        });
    }

    [Fact]
    public async Task Without_wasm_filters_in_tracing_instrumentations_filters_get_no_spans()
    {
        await using var gw = await PluginGateway.StartAsync(configure: o => o with
        {
            Wasm = true, WasmFiltersPath = _filters, TracingInstrumentations = ["router"], TracingSamplingRate = 1,
        });
        await gw.ServiceAndRouteAsync("svc", "/api");
        await gw.CreateAsync("/plugins", new { name = "opentelemetry", config = new { traces_endpoint = _collector.TracesUrl, queue = new { max_coalescing_delay = 0.05 } } });
        await gw.CreateAsync("/routes/svc-route/filter-chains", JsonNode.Parse("""{"filters":[{"name":"phases","config":"{}"}]}""")!.ToJsonString());
        using var response = await gw.Proxy.GetAsync("/api/x");
        Assert.Equal(200, (int)response.StatusCode);
        for (var i = 0; i < 500 && !_collector.Spans.Any(s => s.Name == "kong"); i++) await Task.Delay(20);
        Assert.Contains(_collector.Spans, s => s.Name == "kong.router");
        Assert.DoesNotContain(_collector.Spans, s => s.Name.StartsWith("gatehouse.wasm.", StringComparison.Ordinal));
    }

    /// <summary>A request body written in separate chunks, flushed one by one.</summary>
    private sealed class ChunkedBody(string[] chunks) : Stream
    {
        private int _next;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_next == chunks.Length) return 0;
            if (_next > 0) await Task.Delay(50, cancellationToken);
            var bytes = Encoding.UTF8.GetBytes(chunks[_next++]);
            bytes.CopyTo(buffer);
            return bytes.Length;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
