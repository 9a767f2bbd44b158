using System.Text;
using ProxyWasm.Http;

namespace ProxyWasm.Tests;

/// <summary>HTTP callouts with callout.wat: parallel calls, root delivery, effective context, maps 6/7, buffer 4, status.</summary>
public sealed class CalloutTests
{
    private static long Metric(TestHost t, string name, string plugin = "callout") => t.Host.Metrics.Find(plugin, name)?.Value ?? -1;

    [Fact]
    public async Task Two_parallel_calls_resume_the_request_after_the_last_response()
    {
        var gate = new TaskCompletionSource();
        var dispatcher = new FakeDispatcher(async r =>
        {
            await gate.Task;
            return new HttpCallResponse([KeyValuePair.Create(":status", "201")], "pong"u8.ToArray(), [KeyValuePair.Create("x-trailer", "tv")]);
        });
        using var t = new TestHost(dispatcher);
        using var plugin = t.Plugin("callout.wat");
        var stream = new InMemoryHttpStream();
        using var http = plugin.CreateHttpContext(stream);
        var pending = http.OnRequestHeadersAsync(true);
        Assert.False(pending.IsCompleted);
        gate.SetResult();
        Assert.Equal(FilterOutcome.Continue, await pending.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, Metric(t, "responses"));
        Assert.Equal(0, Metric(t, "dup_tokens"));
        Assert.Equal(plugin.Vms[0].Root!.Id, Metric(t, "last_root")); // delivered on the root context
        Assert.Equal(0, Metric(t, "last_status"));
        Assert.Equal(["201"], stream.RequestHeaders.GetValues("x-call-status"));
        Assert.Equal(["pong"], stream.RequestHeaders.GetValues("x-call-body"));
        Assert.Equal(["tv"], stream.RequestHeaders.GetValues("x-call-trailer"));
        Assert.Equal(2, dispatcher.Requests.Count);
        var request = dispatcher.Requests[0];
        Assert.Equal("POST", request.Header(":method"));
        Assert.Equal("/check", request.Header(":path"));
        Assert.Equal("auth.local", request.Header(":authority"));
        Assert.Equal("ping", Encoding.UTF8.GetString(request.Body.Span));
        Assert.Equal(KeyValuePair.Create("x-req-trailer", "t1"), Assert.Single(request.Trailers));
        Assert.Equal(TimeSpan.FromMilliseconds(500), request.Timeout);
    }

    [Fact]
    public async Task A_timed_out_call_is_delivered_as_a_failure_with_broken_connection_status()
    {
        var dispatcher = new FakeDispatcher(r => new TaskCompletionSource<HttpCallResponse>().Task); // never answers
        using var t = new TestHost(dispatcher);
        using var plugin = t.Plugin("callout.wat");
        var stream = new InMemoryHttpStream();
        using var http = plugin.CreateHttpContext(stream);
        var outcome = await http.OnRequestHeadersAsync(true).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(FilterOutcome.Continue, outcome);
        Assert.Equal(2, Metric(t, "responses"));
        Assert.Equal(11, Metric(t, "last_status"));
        Assert.Empty(stream.RequestHeaders.GetValues("x-call-status"));
    }

    [Fact]
    public async Task Calls_from_a_tick_are_answered_on_the_root_context()
    {
        var dispatcher = new FakeDispatcher(r => Task.FromResult(HttpCallResponse.Ok(200, "x"u8.ToArray())));
        using var t = new TestHost(dispatcher);
        using var plugin = t.Plugin("callout.wat", "T");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Metric(t, "responses") < 2 && DateTime.UtcNow < deadline) await Task.Delay(5);
        Assert.Equal(2, Metric(t, "responses"));
        Assert.Equal(plugin.Vms[0].Root!.Id, Metric(t, "last_root"));
    }

    /// <summary>The embedder learns which request a call is made for (the gateway's http_client span): the stream whose
    /// callback dispatched it; a call from a tick has none.</summary>
    [Fact]
    public async Task A_call_names_the_request_it_is_made_for_and_a_call_from_a_tick_names_none()
    {
        var dispatcher = new FakeDispatcher(r => Task.FromResult(HttpCallResponse.Ok(200, "x"u8.ToArray())));
        using (var t = new TestHost(dispatcher))
        {
            using var plugin = t.Plugin("callout.wat");
            var stream = new InMemoryHttpStream();
            using var http = plugin.CreateHttpContext(stream);
            await http.OnRequestHeadersAsync(true).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(2, dispatcher.Requests.Count);
            Assert.All(dispatcher.Requests, r => Assert.Same(stream, r.Origin));
        }
        var ticks = new FakeDispatcher(r => Task.FromResult(HttpCallResponse.Ok(200, "x"u8.ToArray())));
        using (var t = new TestHost(ticks))
        {
            using var plugin = t.Plugin("callout.wat", "T");
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (Metric(t, "responses") < 2 && DateTime.UtcNow < deadline) await Task.Delay(5);
            Assert.NotEmpty(ticks.Requests);
            Assert.All(ticks.Requests, r => Assert.Null(r.Origin));
        }
    }

    [Fact]
    public async Task Ending_the_request_cancels_its_pending_calls()
    {
        var cancelled = 0;
        var tokenWatcher = new CancellationWatchingDispatcher(() => Interlocked.Increment(ref cancelled));
        using var t = new TestHost(tokenWatcher);
        using var plugin = t.Plugin("callout.wat");
        var http = plugin.CreateHttpContext(new InMemoryHttpStream());
        var pending = http.OnRequestHeadersAsync(true);
        http.Dispose();
        Assert.Equal(FilterOutcomeKind.Failed, (await pending).Kind);
        Assert.Equal(2, Volatile.Read(ref cancelled));
        Assert.Equal(0, plugin.Vms[0].PendingHttpCallCount);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Auto_resume_after_the_last_call_is_opt_in(bool autoResume)
    {
        var dispatcher = new FakeDispatcher(r => Task.FromResult(HttpCallResponse.Ok(200, "ok"u8.ToArray())));
        using var t = new TestHost(dispatcher);
        using var plugin = t.Host.CreatePlugin(t.Load("callout.wat"), new Runtime.FilterPluginConfig
        {
            Name = "callout", PoolSize = 1, Configuration = "A"u8.ToArray(), AutoResumeAfterHttpCalls = autoResume, Limits = TestHost.Relaxed,
        });
        using var http = plugin.CreateHttpContext(new InMemoryHttpStream());
        var pending = http.OnRequestHeadersAsync(true).AsTask();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Metric(t, "responses") < 2 && DateTime.UtcNow < deadline) await Task.Delay(5);
        Assert.Equal(2, Metric(t, "responses"));
        if (autoResume)
        {
            Assert.Equal(FilterOutcome.Continue, await pending.WaitAsync(TimeSpan.FromSeconds(10)));
        }
        else
        {
            await Task.Delay(50);
            Assert.False(pending.IsCompleted); // Envoy: waits for proxy_continue_stream
        }
    }

    [Fact]
    public void Http_call_arguments_are_validated_and_tokens_are_unique()
    {
        var dispatcher = new FakeDispatcher(r => new TaskCompletionSource<HttpCallResponse>().Task);
        using var t = new TestHost(dispatcher);
        using var plugin = t.Plugin("probe.wat");
        using var http = plugin.CreateHttpContext(new InMemoryHttpStream());
        var g = Guest.Of(http);
        byte[] Pairs(params (string, string)[] p) => Abi.PairsCodec.ToArray(p.Select(x => KeyValuePair.Create(x.Item1, x.Item2)).ToList());
        var full = Pairs((":method", "GET"), (":path", "/"), (":authority", "a"));
        int up = g.Write("upstream"), unknown = g.Write("nowhere"), h = g.Write(full), tok = g.Alloc(8);
        Assert.Equal(2, g.Call("call_proxy_http_call", unknown, 7, h, full.Length, 0, 0, 0, 0, 100, tok));
        foreach (var missing in new[] { Pairs((":path", "/"), (":authority", "a")), Pairs((":method", "GET"), (":authority", "a")), Pairs((":method", "GET"), (":path", "/")) })
        {
            int m = g.Write(missing);
            Assert.Equal(2, g.Call("call_proxy_http_call", up, 8, m, missing.Length, 0, 0, 0, 0, 100, tok));
        }
        Assert.Empty(dispatcher.Requests);
        Assert.Equal(0, g.Call("call_proxy_http_call", up, 8, h, full.Length, 0, 0, 0, 0, 0, tok));
        Assert.Equal(0, g.Call("call_proxy_http_call", up, 8, h, full.Length, 0, 0, 0, 0, 0, tok + 4));
        Assert.NotEqual(g.U32(tok), g.U32(tok + 4));
        Assert.Equal(TimeSpan.FromSeconds(60), dispatcher.Requests[0].Timeout); // 0 ⇒ default
        Assert.Equal(6, g.Call("call_proxy_http_call", up, 8, h, full.Length, 0, 0, 0, 0, 0, 0x7fff_fff0));
    }

    private sealed class CancellationWatchingDispatcher(Action onCancel) : IHttpCallDispatcher
    {
        public bool IsKnownUpstream(string upstream) => true;

        public Task<HttpCallResponse> SendAsync(HttpCallRequest request, CancellationToken cancellationToken)
        {
            cancellationToken.Register(onCancel);
            return new TaskCompletionSource<HttpCallResponse>().Task;
        }
    }
}
