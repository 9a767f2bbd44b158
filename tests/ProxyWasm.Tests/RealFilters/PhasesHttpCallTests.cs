using System.Text;
using ProxyWasm.Http;

namespace ProxyWasm.Tests.RealFilters;

/// <summary><c>filters/test/phases.wasm</c> <c>http_call</c> action through a fake embedder dispatcher (README "HTTP calls").</summary>
public sealed class PhasesHttpCallTests
{
    private const string Phases = "filters/test/phases.wasm";

    private static InProcessDispatcher Auth(Func<HttpCallRequest, HttpCallResponse> answer)
        => new(new Dictionary<string, Func<HttpCallRequest, HttpCallResponse>> { ["auth"] = answer });

    [Fact]
    public async Task A_call_from_request_headers_pauses_the_request_and_its_response_resumes_it()
    {
        var dispatcher = Auth(r => HttpCallResponse.Ok(200, Encoding.UTF8.GetBytes("allowed"), ("x-from", "auth")));
        using var h = new RealFilterHost(dispatcher);
        var plugin = h.Start(Phases, """
            {"request_headers":{"action":"http_call","upstream":"auth","method":"POST","path":"/check","headers":{"x-q":"1"},"body":"ping","timeout_ms":500,"then":"continue"},
             "http_call_response":[{"action":"get_header","name":"x-from","map":"http_call_response"},{"action":"get_body"}]}
            """);

        var x = await h.SendAsync(plugin, RequestSpec.Get("/resource"));

        Assert.Equal(FilterOutcome.Continue, x.OutcomeOf("request_headers"));
        Assert.Equal(FilterOutcome.Continue, x.Final);
        var call = Assert.Single(dispatcher.Calls);
        Assert.Equal("auth", call.Upstream);
        Assert.Equal([":method", ":path", ":authority", "x-q"], call.Headers.Select(kv => kv.Key));
        Assert.Equal("POST", call.Header(":method"));
        Assert.Equal("/check", call.Header(":path"));
        Assert.Equal("auth", call.Header(":authority"));
        Assert.Equal("ping", Encoding.UTF8.GetString(call.Body.Span));
        Assert.Equal(TimeSpan.FromMilliseconds(500), call.Timeout);
        var filter = h.Logs.Filter("phases").Select(l => l.Text).ToList();
        Assert.Contains("result:http_call=0", filter);
        Assert.Contains("http_call_response:status=200 body_size=7", filter);
        Assert.Contains("header:x-from=auth", filter);
        Assert.Contains("body:allowed", filter);
        Assert.Contains("result:continue=0", filter);
        Assert.True(filter.IndexOf("phase:http_call_response") < filter.IndexOf("phase:response_headers"));
        Assert.Equal("200", x.ResponseHeader("x-http-call-status"));
        Assert.Equal("auth", x.ResponseHeader("x-header-x-from"));
    }

    [Fact]
    public async Task A_call_answered_with_respond_becomes_the_local_response()
    {
        var dispatcher = Auth(_ => HttpCallResponse.Ok(401, Encoding.UTF8.GetBytes("who are you")));
        using var h = new RealFilterHost(dispatcher);
        var plugin = h.Start(Phases, """{"request_headers":{"action":"http_call","upstream":"auth","path":"/check","timeout_ms":500,"then":"respond"}}""");

        var x = await h.SendAsync(plugin, RequestSpec.Get());

        Assert.Equal(FilterOutcomeKind.LocalResponse, x.OutcomeOf("request_headers").Kind);
        Assert.Equal(401, x.Local!.StatusCode);
        Assert.Equal("who are you", Encoding.UTF8.GetString(x.Local.Body.Span));
        Assert.Contains("result:respond=0", h.Logs.Messages("phases", "result:"));
    }

    [Fact]
    public async Task A_failed_call_is_delivered_with_no_headers()
    {
        var dispatcher = Auth(_ => throw new IOException("connection refused"));
        using var h = new RealFilterHost(dispatcher);
        var plugin = h.Start(Phases, """{"request_headers":{"action":"http_call","upstream":"auth","timeout_ms":500,"then":"respond"}}""");

        var x = await h.SendAsync(plugin, RequestSpec.Get());

        Assert.Contains("http_call_response:status=failed body_size=0", h.Logs.Messages("phases", "http_call_response:"));
        Assert.Equal(502, x.Local!.StatusCode);
    }

    [Fact]
    public async Task A_call_that_times_out_is_delivered_as_failed_and_continue_resumes()
    {
        var never = new TaskCompletionSource<HttpCallResponse>();
        var dispatcher = new SlowDispatcher(never.Task);
        using var h = new RealFilterHost(dispatcher);
        var plugin = h.Start(Phases, """{"request_headers":{"action":"http_call","upstream":"slow","timeout_ms":50,"then":"continue"}}""");

        var x = await h.SendAsync(plugin, RequestSpec.Get());

        Assert.Equal(FilterOutcome.Continue, x.Final);
        Assert.Equal("failed", x.ResponseHeader("x-http-call-status"));
        Assert.True(dispatcher.Cancelled, "the host cancels the dispatcher's call when it times out");
    }

    [Fact]
    public async Task A_trap_while_handling_the_call_response_fails_the_paused_request()
    {
        var dispatcher = Auth(_ => HttpCallResponse.Ok(200, default));
        using var h = new RealFilterHost(dispatcher);
        var plugin = h.Start(Phases, """{"request_headers":{"action":"http_call","upstream":"auth","then":"continue","when_eos":true},"http_call_response":"trap"}""");

        var x = await h.SendAsync(plugin, RequestSpec.Get());

        Assert.Equal(FilterOutcomeKind.Failed, x.OutcomeOf("request_headers").Kind);
        var next = await h.SendAsync(plugin, new RequestSpec { Method = "POST", RequestBody = ["b"] });
        Assert.Equal(FilterOutcome.Continue, next.Final);
        Assert.Equal(2, RealFilterHost.VmsCreated(plugin));
    }

    [Theory]
    [InlineData("continue")]
    [InlineData("respond")]
    public async Task A_call_from_response_headers_pauses_the_response_until_the_answer(string then)
    {
        var dispatcher = Auth(_ => HttpCallResponse.Ok(203, Encoding.UTF8.GetBytes("late")));
        using var h = new RealFilterHost(dispatcher);
        var plugin = h.Start(Phases, "{\"response_headers\":{\"action\":\"http_call\",\"upstream\":\"auth\",\"then\":\"" + then + "\"}}");

        var x = await h.SendAsync(plugin, new RequestSpec { ResponseBody = ["upstream body"] });

        Assert.Single(dispatcher.Calls);
        if (then == "continue")
        {
            Assert.Equal(FilterOutcome.Continue, x.OutcomeOf("response_headers"));
            Assert.Equal("upstream body", x.DeliveredResponseBody);
        }
        else
        {
            // a local response is still possible: the response headers have not been sent (abi doc §2.6)
            Assert.Equal(FilterOutcomeKind.LocalResponse, x.OutcomeOf("response_headers").Kind);
            Assert.Equal(203, x.Local!.StatusCode);
            Assert.Equal("late", x.DeliveredResponseBody);
        }
    }

    [Fact]
    public async Task An_unknown_upstream_is_refused_without_pausing()
    {
        var dispatcher = Auth(_ => HttpCallResponse.Ok(200, default));
        using var h = new RealFilterHost(dispatcher);
        var plugin = h.Start(Phases, """{"request_headers":{"action":"http_call","upstream":"nope"}}""");

        var x = await h.SendAsync(plugin, RequestSpec.Get());

        Assert.Equal(FilterOutcome.Continue, x.Final);
        Assert.Equal("2", x.ResponseHeader("x-http-call-dispatch-status")); // BAD_ARGUMENT
        Assert.Empty(dispatcher.Calls);
    }

    [Fact]
    public async Task A_call_from_a_tick_is_delivered_to_the_root_context()
    {
        var dispatcher = Auth(_ => HttpCallResponse.Ok(204, default));
        using var h = new RealFilterHost(dispatcher);
        h.Start(Phases, """{"configure":{"action":"tick","period_ms":30},"tick":{"action":"http_call","upstream":"auth","path":"/tick"}}""");
        Assert.True(await RealFilterHost.WaitUntilAsync(() => h.Logs.Messages("phases", "http_call_response:status=204").Count >= 2));
        Assert.All(dispatcher.Calls, c => Assert.Equal("/tick", c.Header(":path")));
    }

    [Fact]
    public async Task Ending_the_request_while_a_call_is_pending_cancels_the_call()
    {
        var dispatcher = new SlowDispatcher(new TaskCompletionSource<HttpCallResponse>().Task);
        using var h = new RealFilterHost(dispatcher);
        var plugin = h.Start(Phases, """{"request_headers":{"action":"http_call","upstream":"slow","timeout_ms":5000,"then":"none"}}""");
        var (x, _) = RealFilterHost.Open(plugin, RequestSpec.Get());

        var pending = x.Context.OnRequestHeadersAsync(true).AsTask();
        Assert.False(pending.IsCompleted); // paused on the callout
        x.Context.Dispose();

        Assert.Equal(FilterOutcomeKind.Failed, (await pending.WaitAsync(TimeSpan.FromSeconds(10))).Kind);
        Assert.True(dispatcher.Cancelled);
        Assert.Empty(h.Logs.Messages("phases", "phase:http_call_response"));
        Assert.Contains("phase:log", h.Logs.Messages("phases", "phase:")); // the context still ends normally
    }

    [Fact]
    public async Task With_auto_resume_a_request_paused_for_a_call_resumes_after_it_completes()
    {
        var dispatcher = Auth(_ => HttpCallResponse.Ok(200, default));
        using var h = new RealFilterHost(dispatcher);
        var plugin = h.Start(Phases, """{"request_headers":{"action":"http_call","upstream":"auth","then":"none"}}""", new PluginOptions { AutoResumeAfterHttpCalls = true });
        var x = await h.SendAsync(plugin, RequestSpec.Get());
        Assert.Equal(FilterOutcome.Continue, x.Final);
        Assert.Contains("http_call_response:status=200 body_size=0", h.Logs.Messages("phases", "http_call_response:"));
    }

    private sealed class SlowDispatcher(Task<HttpCallResponse> answer) : IHttpCallDispatcher
    {
        public bool Cancelled { get; private set; }

        public bool IsKnownUpstream(string upstream) => upstream == "slow";

        public Task<HttpCallResponse> SendAsync(HttpCallRequest request, CancellationToken cancellationToken)
        {
            cancellationToken.Register(() => Cancelled = true);
            return answer;
        }
    }
}
