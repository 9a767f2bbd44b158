using System.Text;
using ProxyWasm.Abi;
using ProxyWasm.Http;
using ProxyWasm.Runtime;

namespace ProxyWasm.Tests;

/// <summary>Byte-exact ABI checks: the probe module's call_* exports forward arguments to the host function.</summary>
public sealed class HostCallTests : IDisposable
{
    private const int Ok = 0, NotFound = 1, BadArgument = 2, InvalidMemory = 6, Empty = 7, CasMismatch = 8, Unimplemented = 12;
    private const int Oob = 0x7fff_fff0;
    private readonly TestHost _t = new();
    private readonly FilterPlugin _plugin;
    private readonly InMemoryHttpStream _stream = new(path: "/p?q=1");
    private readonly HttpFilterContextHolder _http;

    public HostCallTests()
    {
        _plugin = _t.Plugin("probe.wat", config: "plugin-config", vmId: "hostcalls");
        _http = new HttpFilterContextHolder(_plugin.CreateHttpContext(_stream));
        G = Guest.Of(_http.Context);
        R = Guest.Root(_plugin);
    }

    private Guest G { get; }

    private Guest R { get; }

    public void Dispose()
    {
        _http.Context.Dispose();
        _plugin.Dispose();
        _t.Dispose();
    }

    private sealed record HttpFilterContextHolder(Contexts.HttpFilterContext Context);

    [Fact]
    public void Log_checks_level_and_memory()
    {
        int msg = G.Write("hi there");
        Assert.Equal(Ok, G.Call("call_proxy_log", 3, msg, 8));
        Assert.True(_t.Logs.Contains("hi there", Microsoft.Extensions.Logging.LogLevel.Warning));
        Assert.Equal(BadArgument, G.Call("call_proxy_log", 6, msg, 8));
        Assert.Equal(InvalidMemory, G.Call("call_proxy_log", 2, Oob, 8));
        int ret = G.Alloc(4);
        Assert.Equal(Ok, G.Call("call_proxy_get_log_level", ret));
        Assert.Equal(0u, G.U32(ret)); // capturing logger enables trace
    }

    [Fact]
    public void Current_time_is_nanoseconds_since_the_epoch()
    {
        int ret = G.Alloc(8);
        Assert.Equal(Ok, G.Call("call_proxy_get_current_time_nanoseconds", ret));
        var now = (ulong)(DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100;
        Assert.InRange(G.U64(ret), now - 60_000_000_000UL, now + 1_000_000_000UL);
        Assert.Equal(InvalidMemory, G.Call("call_proxy_get_current_time_nanoseconds", Oob));
    }

    [Fact]
    public void Header_map_pairs_round_trip_and_errors()
    {
        int rp = G.Alloc(8);
        Assert.Equal(Ok, G.Call("call_proxy_get_header_map_pairs", 0, rp, rp + 4));
        var expected = PairsCodec.ToArray(_stream.RequestHeaders.ToList());
        Assert.Equal(expected, G.Returned(rp, rp + 4));
        int sp = G.Alloc(4);
        Assert.Equal(Ok, G.Call("call_proxy_get_header_map_size", 0, sp));
        Assert.Equal((uint)expected.Length, G.U32(sp));

        var replacement = PairsCodec.ToArray([KeyValuePair.Create("a", "1"), KeyValuePair.Create("b", "22")]);
        int p = G.Write(replacement);
        Assert.Equal(Ok, G.Call("call_proxy_set_header_map_pairs", 2, p, replacement.Length));
        Assert.Equal(["1"], _stream.ResponseHeaders.GetValues("A"));
        Assert.Equal(BadArgument, G.Call("call_proxy_set_header_map_pairs", 2, p, replacement.Length - 1)); // malformed
        Assert.Equal(BadArgument, G.Call("call_proxy_get_header_map_pairs", 100, rp, rp + 4));
        Assert.Equal(BadArgument, G.Call("call_proxy_set_header_map_pairs", 8, p, replacement.Length));
        Assert.Equal(InvalidMemory, G.Call("call_proxy_get_header_map_pairs", 0, Oob, rp + 4));
        // empty map: 0/0, allocator not called
        Assert.Equal(Ok, G.Call("call_proxy_get_header_map_pairs", 3, rp, rp + 4));
        Assert.Equal(0u, G.U32(rp));
        Assert.Equal(0u, G.U32(rp + 4));
        // HTTP-call response maps are not available outside on_http_call_response
        Assert.Equal(BadArgument, G.Call("call_proxy_get_header_map_pairs", 6, rp, rp + 4));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Every_http_map_type_is_readable_and_writable(int type)
    {
        var map = type switch { 0 => _stream.RequestHeaders, 1 => _stream.RequestTrailers, 2 => _stream.ResponseHeaders, _ => _stream.ResponseTrailers };
        int k = G.Write("x-type"), v = G.Write("t" + type), rp = G.Alloc(8);
        Assert.Equal(Ok, G.Call("call_proxy_add_header_map_value", type, k, 6, v, 2));
        Assert.Equal(["t" + type], map.GetValues("x-type"));
        Assert.Equal(Ok, G.Call("call_proxy_get_header_map_value", type, k, 6, rp, rp + 4));
        Assert.Equal("t" + type, G.ReturnedString(rp, rp + 4));
        Assert.Equal(Ok, G.Call("call_proxy_get_header_map_pairs", type, rp, rp + 4));
        Assert.Equal(PairsCodec.ToArray(map.ToList()), G.Returned(rp, rp + 4));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    public void Grpc_metadata_maps_are_not_available(int type)
    {
        int rp = G.Alloc(8);
        Assert.Equal(BadArgument, G.Call("call_proxy_get_header_map_pairs", type, rp, rp + 4));
    }

    [Fact]
    public void Header_map_value_get_add_replace_remove()
    {
        int rp = G.Alloc(8);
        int key = G.Write(":PATH");
        Assert.Equal(Ok, G.Call("call_proxy_get_header_map_value", 0, key, 5, rp, rp + 4));
        Assert.Equal("/p?q=1", G.ReturnedString(rp, rp + 4));
        int missing = G.Write("x-none");
        Assert.Equal(NotFound, G.Call("call_proxy_get_header_map_value", 0, missing, 6, rp, rp + 4));
        int k = G.Write("x-multi"), v1 = G.Write("one"), v2 = G.Write("two");
        Assert.Equal(Ok, G.Call("call_proxy_add_header_map_value", 0, k, 7, v1, 3));
        Assert.Equal(Ok, G.Call("call_proxy_add_header_map_value", 0, k, 7, v2, 3));
        Assert.Equal(["one", "two"], _stream.RequestHeaders.GetValues("x-multi"));
        Assert.Equal(Ok, G.Call("call_proxy_replace_header_map_value", 0, k, 7, v2, 3));
        Assert.Equal(["two"], _stream.RequestHeaders.GetValues("x-multi"));
        Assert.Equal(Ok, G.Call("call_proxy_remove_header_map_value", 0, k, 7));
        Assert.Equal(Ok, G.Call("call_proxy_remove_header_map_value", 0, k, 7)); // absent is OK
        Assert.Empty(_stream.RequestHeaders.GetValues("x-multi"));
        Assert.Equal(BadArgument, G.Call("call_proxy_add_header_map_value", 9, k, 7, v1, 3));
        Assert.Equal(BadArgument, G.Call("call_proxy_add_header_map_value", 6, k, 7, v1, 3)); // read-only map
        Assert.Equal(InvalidMemory, G.Call("call_proxy_add_header_map_value", 0, k, 7, Oob, 3));
        // ngx 009-proxy_wasm_oob: out-of-bounds key / return pointers, misaligned return pointers
        Assert.Equal(InvalidMemory, G.Call("call_proxy_get_header_map_value", 0, Oob, 5, rp, rp + 4));
        Assert.Equal(InvalidMemory, G.Call("call_proxy_get_header_map_value", 0, key, 5, Oob, rp + 4));
        int odd = G.Alloc(16) + 1;
        Assert.Equal(Ok, G.Call("call_proxy_get_header_map_value", 0, key, 5, odd, odd + 4));
        Assert.Equal("/p?q=1", G.ReturnedString(odd, odd + 4));
        Assert.Equal(BadArgument, G.Call("call_proxy_set_header_map_pairs", 100, k, 7));
        Assert.Equal(BadArgument, G.Call("call_proxy_remove_header_map_value", 100, k, 7));
        Assert.Equal(BadArgument, G.Call("call_proxy_get_header_map_size", 100, rp));
    }

    [Fact]
    public void Buffers_follow_start_and_length_semantics()
    {
        _stream.RequestBody.Set("0123456789"u8);
        _http.Context.Stream.Phase = Contexts.FilterPhase.RequestBody;
        int rp = G.Alloc(8);
        Assert.Equal(Ok, G.Call("call_proxy_get_buffer_bytes", 0, 2, 3, rp, rp + 4));
        Assert.Equal("234", G.ReturnedString(rp, rp + 4));
        Assert.Equal(Ok, G.Call("call_proxy_get_buffer_bytes", 0, 8, 100, rp, rp + 4));
        Assert.Equal("89", G.ReturnedString(rp, rp + 4));
        Assert.Equal(Ok, G.Call("call_proxy_get_buffer_bytes", 0, 50, 5, rp, rp + 4));
        Assert.Equal(0u, G.U32(rp + 4));
        Assert.Equal(BadArgument, G.Call("call_proxy_get_buffer_bytes", 0, 10, -1, rp, rp + 4)); // u32 overflow
        Assert.Equal(BadArgument, G.Call("call_proxy_get_buffer_bytes", 9, 0, 1, rp, rp + 4));
        Assert.Equal(NotFound, G.Call("call_proxy_get_buffer_bytes", 1, 0, 1, rp, rp + 4)); // response body not yet
        Assert.Equal(Ok, G.Call("call_proxy_get_buffer_status", 0, rp, rp + 4));
        Assert.Equal(10u, G.U32(rp));
        int data = G.Write("AB");
        Assert.Equal(Ok, G.Call("call_proxy_set_buffer_bytes", 0, 0, 0, data, 2)); // prepend
        Assert.Equal("AB0123456789", Encoding.UTF8.GetString(_stream.RequestBody.Span));
        Assert.Equal(Ok, G.Call("call_proxy_set_buffer_bytes", 0, -1, 0, data, 2)); // append
        Assert.Equal(Ok, G.Call("call_proxy_set_buffer_bytes", 0, 2, 10, data, 1)); // replace the digits with "A"
        Assert.Equal("ABAAB", Encoding.UTF8.GetString(_stream.RequestBody.Span));
        Assert.Equal(BadArgument, G.Call("call_proxy_set_buffer_bytes", 7, 0, 0, data, 2)); // plugin config read-only
        Assert.Equal(BadArgument, G.Call("call_proxy_set_buffer_bytes", 100, 0, 0, data, 2));
        Assert.Equal(BadArgument, G.Call("call_proxy_get_buffer_status", 100, rp, rp + 4));
        Assert.Equal(NotFound, G.Call("call_proxy_set_buffer_bytes", 4, 0, 0, data, 2)); // no call response now
        Assert.Equal(InvalidMemory, G.Call("call_proxy_set_buffer_bytes", 0, 0, 0, Oob, 2));
        // configuration buffers are readable
        Assert.Equal(Ok, G.Call("call_proxy_get_buffer_bytes", 7, 0, 100, rp, rp + 4));
        Assert.Equal("plugin-config", G.ReturnedString(rp, rp + 4));
    }

    [Fact]
    public async Task Local_response_from_request_headers_carries_status_body_headers_and_grpc()
    {
        var headers = PairsCodec.ToArray([KeyValuePair.Create("x-local", "1")]);
        int h = G.Write(headers), body = G.Write("nope"), details = G.Write("denied_by_filter");
        Assert.Equal(BadArgument, G.Call("call_proxy_send_local_response", 1000, details, 16, body, 4, h, headers.Length, -1));
        Assert.Equal(Ok, G.Call("call_proxy_send_local_response", 403, details, 16, body, 4, h, headers.Length, 7));
        Assert.Equal(BadArgument, G.Call("call_proxy_send_local_response", 403, details, 16, body, 4, h, headers.Length, 7)); // twice
        var local = _http.Context.Stream.PendingLocalResponse!;
        Assert.Equal(403, local.StatusCode);
        Assert.Equal("denied_by_filter", local.Details);
        Assert.Equal("nope", Encoding.UTF8.GetString(local.Body.Span));
        Assert.Equal(7, local.GrpcStatus);
        Assert.Equal(KeyValuePair.Create("x-local", "1"), Assert.Single(local.Headers));
        // the next phase reports it
        _http.Context.Stream.PendingLocalResponse = local;
        var outcome = await _http.Context.OnRequestHeadersAsync(true);
        Assert.Equal(FilterOutcomeKind.LocalResponse, outcome.Kind);
    }

    [Fact]
    public async Task Local_response_is_refused_once_response_headers_were_sent()
    {
        await _http.Context.OnRequestHeadersAsync(true);
        await _http.Context.OnResponseHeadersAsync(false);
        await _http.Context.OnResponseBodyAsync(true);
        Assert.Equal(BadArgument, G.Call("call_proxy_send_local_response", 500, 0, 0, 0, 0, 0, 0, -1));
        Assert.Equal(BadArgument, R.Call("call_proxy_send_local_response", 500, 0, 0, 0, 0, 0, 0, -1)); // no stream in root
    }

    [Fact]
    public void Stream_control_statuses()
    {
        Assert.Equal(BadArgument, G.Call("call_proxy_continue_stream", 4));
        Assert.Equal(Unimplemented, G.Call("call_proxy_continue_stream", 2));
        Assert.Equal(Ok, G.Call("call_proxy_continue_stream", 0));
        Assert.Equal(NotFound, R.Call("call_proxy_continue_stream", 0));
        Assert.Equal(Ok, G.Call("call_proxy_continue_request"));
        Assert.Equal(Ok, G.Call("call_proxy_continue_response"));
        Assert.Equal(Ok, G.Call("call_proxy_clear_route_cache"));
        Assert.Equal(BadArgument, G.Call("call_proxy_close_stream", 9));
        Assert.Equal(Ok, G.Call("call_proxy_close_stream", 1));
        Assert.Equal(NotFound, G.Call("call_proxy_done")); // not pending
        Assert.Equal(NotFound, G.Call("call_proxy_get_status", 0, 0, 0)); // no call response
    }

    [Fact]
    public void Effective_context_must_exist()
    {
        Assert.Equal(Ok, R.Call("call_proxy_set_effective_context", _http.Context.ContextId));
        Assert.Equal(BadArgument, R.Call("call_proxy_set_effective_context", 9999));
    }

    [Fact]
    public void Grpc_is_unimplemented_and_http_call_validates_arguments()
    {
        Assert.Equal(Unimplemented, G.Call("call_proxy_grpc_call", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        Assert.Equal(Unimplemented, G.Call("call_proxy_grpc_stream", 0, 0, 0, 0, 0, 0, 0, 0, 0));
        Assert.Equal(Unimplemented, G.Call("call_proxy_grpc_send", 1, 0, 0, 0));
        Assert.Equal(Unimplemented, G.Call("call_proxy_grpc_cancel", 1));
        Assert.Equal(Unimplemented, G.Call("call_proxy_grpc_close", 1));
        var noPath = PairsCodec.ToArray([KeyValuePair.Create(":method", "GET"), KeyValuePair.Create(":authority", "a")]);
        int up = G.Write("upstream"), h = G.Write(noPath), tok = G.Alloc(4);
        Assert.Equal(BadArgument, G.Call("call_proxy_http_call", up, 8, h, noPath.Length, 0, 0, 0, 0, 100, tok)); // no dispatcher / no :path
        Assert.Equal(InvalidMemory, G.Call("call_proxy_http_call", Oob, 8, h, noPath.Length, 0, 0, 0, 0, 100, tok));
    }

    [Fact]
    public void Shared_data_follows_envoy_cas_semantics()
    {
        int key = G.Write("cas-key"), v = G.Write("value"), rp = G.Alloc(12);
        Assert.Equal(NotFound, G.Call("call_proxy_get_shared_data", key, 7, rp, rp + 4, rp + 8));
        Assert.Equal(Ok, G.Call("call_proxy_set_shared_data", key, 7, v, 5, 0));
        Assert.Equal(Ok, G.Call("call_proxy_set_shared_data", key, 7, v, 5, 0));
        Assert.Equal(Ok, G.Call("call_proxy_get_shared_data", key, 7, rp, rp + 4, rp + 8));
        uint cas = G.U32(rp + 8);
        Assert.Equal("value", G.ReturnedString(rp, rp + 4));
        Assert.Equal(CasMismatch, G.Call("call_proxy_set_shared_data", key, 7, v, 3, (int)cas + 100));
        Assert.Equal(Ok, G.Call("call_proxy_set_shared_data", key, 7, v, 3, (int)cas));
        Assert.Equal(Ok, G.Call("call_proxy_get_shared_data", key, 7, rp, rp + 4, rp + 8));
        Assert.True(G.U32(rp + 8) > cas);
        Assert.Equal("val", G.ReturnedString(rp, rp + 4));
        Assert.Equal(Ok, G.Call("call_proxy_set_shared_data", key, 7, 0, 0, 0)); // null value deletes
        Assert.Equal(NotFound, G.Call("call_proxy_get_shared_data", key, 7, rp, rp + 4, rp + 8));
        Assert.Equal(InvalidMemory, G.Call("call_proxy_get_shared_data", Oob, 7, rp, rp + 4, rp + 8));
    }

    [Fact]
    public void Queues_register_resolve_enqueue_dequeue()
    {
        int name = G.Write("jobs"), rp = G.Alloc(12), item = G.Write("payload");
        Assert.Equal(Ok, R.Call("call_proxy_register_shared_queue", name, 4, rp));
        uint token = G.U32(rp);
        Assert.NotEqual(0u, token);
        Assert.Equal(Ok, R.Call("call_proxy_register_shared_queue", name, 4, rp + 4));
        Assert.Equal(token, G.U32(rp + 4)); // same name, same token
        Assert.Equal(Ok, G.Call("call_proxy_resolve_shared_queue", 0, 0, name, 4, rp + 4));
        Assert.Equal(token, G.U32(rp + 4));
        int other = G.Write("other-vm");
        Assert.Equal(NotFound, G.Call("call_proxy_resolve_shared_queue", other, 8, name, 4, rp + 4));
        Assert.Equal(Empty, G.Call("call_proxy_dequeue_shared_queue", (int)token, rp, rp + 4));
        Assert.Equal(NotFound, G.Call("call_proxy_dequeue_shared_queue", 99999, rp, rp + 4));
        Assert.Equal(NotFound, G.Call("call_proxy_enqueue_shared_queue", 99999, item, 7));
        Assert.Equal(Ok, G.Call("call_proxy_enqueue_shared_queue", (int)token, item, 7));
        // the owner's proxy_on_queue_ready dequeues and logs it (posted to the VM)
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!_t.Logs.Contains("payload") && DateTime.UtcNow < deadline) Thread.Sleep(5);
        Assert.True(_t.Logs.Contains("payload"));
    }

    [Fact]
    public void Metrics_define_increment_record_get()
    {
        int c = G.Write("requests"), g = G.Write("inflight"), h = G.Write("latency"), rp = G.Alloc(16);
        Assert.Equal(Ok, G.Call("call_proxy_define_metric", 0, c, 8, rp));
        Assert.Equal(Ok, G.Call("call_proxy_define_metric", 1, g, 8, rp + 4));
        Assert.Equal(Ok, G.Call("call_proxy_define_metric", 2, h, 7, rp + 8));
        Assert.Equal(BadArgument, G.Call("call_proxy_define_metric", 3, c, 8, rp + 12));
        int counter = (int)G.U32(rp), gauge = (int)G.U32(rp + 4), histogram = (int)G.U32(rp + 8);
        Assert.Equal(Ok, G.Call("call_proxy_define_metric", 0, c, 8, rp + 12));
        Assert.Equal((uint)counter, G.U32(rp + 12)); // redefinition returns the same id
        Assert.Equal(Ok, G.TryCall("call_proxy_increment_metric", counter, 5L));
        Assert.Equal(BadArgument, G.TryCall("call_proxy_increment_metric", counter, -1L));
        Assert.Equal(Ok, G.TryCall("call_proxy_increment_metric", gauge, -3L));
        Assert.Equal(BadArgument, G.TryCall("call_proxy_increment_metric", histogram, 1L));
        Assert.Equal(NotFound, G.TryCall("call_proxy_increment_metric", 4000, 1L));
        Assert.Equal(Ok, G.TryCall("call_proxy_record_metric", gauge, 42L));
        Assert.Equal(Ok, G.TryCall("call_proxy_record_metric", histogram, 100L));
        Assert.Equal(NotFound, G.TryCall("call_proxy_record_metric", 4000, 1L));
        Assert.Equal(Ok, G.TryCall("call_proxy_record_metric", counter, 2L)); // Envoy: record on a counter adds
        Assert.Equal(Ok, G.Call("call_proxy_get_metric", counter, rp));
        Assert.Equal(7UL, G.U64(rp));
        Assert.Equal(Ok, G.Call("call_proxy_get_metric", counter, rp));
        Assert.Equal(7UL, G.U64(rp));
        Assert.Equal(Ok, G.Call("call_proxy_get_metric", gauge, rp));
        Assert.Equal(42UL, G.U64(rp));
        Assert.Equal(BadArgument, G.Call("call_proxy_get_metric", histogram, rp));
        Assert.Equal(NotFound, G.Call("call_proxy_get_metric", 4000, rp));
        var snapshot = _t.Host.Metrics.Find("probe", "latency")!;
        Assert.Equal(MetricType.Histogram, snapshot.Type);
        Assert.Equal(1, snapshot.Count);
        Assert.Equal(100, snapshot.Value);
        Assert.Equal(1, snapshot.Buckets.Single(b => b.UpperBound == 128).Count);
    }

    [Fact]
    public void Properties_answer_plugin_values_request_values_and_custom_ones()
    {
        int rp = G.Alloc(8);
        foreach (var (path, expected) in new[] { ("plugin_name", "probe"), ("plugin_root_id", "root-probe.wat"), ("plugin_vm_id", "hostcalls"), ("request\0path", "/p?q=1"), ("request.url_path", "/p"), ("request\0headers\0:authority", "localhost") })
        {
            var bytes = Encoding.UTF8.GetBytes(path);
            int p = G.Write(bytes);
            Assert.Equal(Ok, G.Call("call_proxy_get_property", p, bytes.Length, rp, rp + 4));
            Assert.Equal(expected, G.ReturnedString(rp, rp + 4));
        }
        int rootId = G.Write("plugin_root_id");
        Assert.Equal(Ok, R.Call("call_proxy_get_property", rootId, 14, rp, rp + 4)); // root contexts too
        int unknown = G.Write("no.such.thing");
        Assert.Equal(NotFound, G.Call("call_proxy_get_property", unknown, 13, rp, rp + 4));
        int custom = G.Write("wasmx\0mine"), value = G.Write("v1");
        Assert.Equal(Ok, G.Call("call_proxy_set_property", custom, 10, value, 2));
        Assert.Equal(Ok, G.Call("call_proxy_get_property", custom, 10, rp, rp + 4));
        Assert.Equal("v1", G.ReturnedString(rp, rp + 4));
        Assert.Equal(NotFound, R.Call("call_proxy_set_property", custom, 10, value, 2)); // no stream
        int requestPath = G.Write("request.path");
        Assert.Equal(NotFound, R.Call("call_proxy_get_property", requestPath, 12, rp, rp + 4)); // no request in a root context
        _stream.ResponseHeaders.Add(":status", "201");
        int code = G.Write("response.code");
        Assert.Equal(Ok, G.Call("call_proxy_get_property", code, 13, rp, rp + 4));
        Assert.Equal(201L, BitConverter.ToInt64(G.Returned(rp, rp + 4)));
    }

    [Fact]
    public void Foreign_functions_registry()
    {
        _t.Host.ForeignFunctions.Register("reverse", args => args.ToArray().Reverse().ToArray());
        int name = G.Write("reverse"), args = G.Write("abc"), rp = G.Alloc(8), unknown = G.Write("nope");
        Assert.Equal(Ok, G.Call("call_proxy_call_foreign_function", name, 7, args, 3, rp, rp + 4));
        Assert.Equal("cba", G.ReturnedString(rp, rp + 4));
        Assert.Equal(NotFound, G.Call("call_proxy_call_foreign_function", unknown, 4, args, 3, rp, rp + 4));
        Assert.Equal(1, G.Call("call_pthread_equal", 3, 3));
    }

    [Fact]
    public void Tick_period_applies_to_the_root_and_fires_on_tick()
    {
        Assert.Equal(Ok, G.Call("call_proxy_set_tick_period_milliseconds", 5));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_t.Logs.Messages().Count(m => m.Contains($"#{_plugin.Vms[0].Root!.Id}] hello from probe", StringComparison.Ordinal)) < 2 && DateTime.UtcNow < deadline) Thread.Sleep(5);
        Assert.Equal(Ok, G.Call("call_proxy_set_tick_period_milliseconds", 0));
        int ticks = _t.Logs.Messages().Count(m => m.Contains($"#{_plugin.Vms[0].Root!.Id}] hello from probe", StringComparison.Ordinal));
        Assert.True(ticks >= 2);
        Thread.Sleep(60);
        // period 0 cancels: at most one tick that was already waiting for the VM may still run
        Assert.InRange(_t.Logs.Messages().Count(m => m.Contains($"#{_plugin.Vms[0].Root!.Id}] hello from probe", StringComparison.Ordinal)), ticks, ticks + 1);
    }

    /// <summary>Found by the host-call fuzz target: a period the .NET timer cannot hold (u32 max, i.e. -1 from a
    /// guest) threw from the timer and killed the VM; it is accepted as the longest period a timer can wait.</summary>
    [Theory]
    [InlineData(-1)]
    [InlineData(-2)]
    [InlineData(int.MinValue)]
    public void Tick_period_beyond_the_timer_range_is_accepted_not_fatal(int period)
    {
        Assert.Equal(Ok, G.Call("call_proxy_set_tick_period_milliseconds", period));
        Assert.False(G.Vm.IsDead, G.Vm.DeathReason);
        Assert.Equal(Ok, G.Call("call_proxy_set_tick_period_milliseconds", 0));
    }

    /// <summary>Found by the header-map fuzz target: an empty field name made ASP.NET's header dictionary throw inside
    /// the host call (the VM was killed); every map now refuses it with BadArgument and stays as it was.</summary>
    [Fact]
    public void Empty_header_names_are_refused_and_change_nothing()
    {
        int empty = G.Write("x"), v = G.Write("v");
        var before = _stream.RequestHeaders.ToList();
        Assert.Equal(BadArgument, G.Call("call_proxy_add_header_map_value", 0, empty, 0, v, 1));
        Assert.Equal(BadArgument, G.Call("call_proxy_replace_header_map_value", 0, empty, 0, v, 1));
        var pairs = PairsCodec.ToArray([KeyValuePair.Create("a", "1"), KeyValuePair.Create("", "2")]);
        int p = G.Write(pairs);
        Assert.Equal(BadArgument, G.Call("call_proxy_set_header_map_pairs", 0, p, pairs.Length));
        Assert.Equal(before, _stream.RequestHeaders.ToList());
        Assert.False(G.Vm.IsDead);
    }

    /// <summary>Found by the host-call fuzz target: get_buffer_status wrote the size slot, then found the flags slot out
    /// of bounds and answered InvalidMemoryAccess with guest memory already changed. Both slots are checked first.</summary>
    [Fact]
    public void Buffer_status_with_a_bad_slot_writes_nothing()
    {
        int size = G.Alloc(4);
        Assert.Equal(InvalidMemory, G.Call("call_proxy_get_buffer_status", 7, size, Oob)); // plugin configuration
        Assert.Equal(0u, G.U32(size));
        Assert.Equal(InvalidMemory, G.Call("call_proxy_get_buffer_status", 7, Oob, size));
        Assert.Equal(0u, G.U32(size));
        Assert.Equal(Ok, G.Call("call_proxy_get_buffer_status", 7, size, size));
    }

    /// <summary>Found by the host-call fuzz target: get_shared_data wrote the cas slot, then found a return slot out of
    /// bounds and answered InvalidMemoryAccess with guest memory already changed.</summary>
    [Fact]
    public void Shared_data_get_with_a_bad_return_slot_writes_nothing()
    {
        int key = G.Write("fuzz-key"), value = G.Write("v"), cas = G.Alloc(4), rp = G.Alloc(8);
        Assert.Equal(Ok, G.Call("call_proxy_set_shared_data", key, 8, value, 1, 0));
        Assert.Equal(InvalidMemory, G.Call("call_proxy_get_shared_data", key, 8, Oob, rp + 4, cas));
        Assert.Equal(0u, G.U32(cas));
        Assert.Equal(Ok, G.Call("call_proxy_get_shared_data", key, 8, rp, rp + 4, cas));
        Assert.NotEqual(0u, G.U32(cas));
        Assert.Equal("v", G.ReturnedString(rp, rp + 4));
    }
}
