using System.Text;
using ProxyWasm.Http;

namespace ProxyWasm.Tests.RealFilters;

/// <summary><c>filters/test/phases.wasm</c>: callback order and local responses (filters/test/README.md "phases").</summary>
public sealed class PhasesLifecycleTests
{
    private const string Phases = "filters/test/phases.wasm";

    [Fact]
    public async Task A_full_request_runs_every_callback_in_order()
    {
        using var h = new RealFilterHost();
        var plugin = h.Start(Phases, "{}");
        Assert.Equal(["phase:root_context_create", "phase:vm_start", "phase:configure"], h.Logs.Messages("phases", "phase:"));

        var x = await h.SendAsync(plugin, new RequestSpec
        {
            Method = "POST",
            RequestBody = ["ab", "cd"],
            ResponseBody = ["ef", "gh", "ij"],
        });

        Assert.Equal(FilterOutcome.Continue, x.Final);
        Assert.Equal("abcd", x.ForwardedRequestBody);
        Assert.Equal("efghij", x.DeliveredResponseBody);
        var request = h.Logs.Filter("phases").Where(l => l.ContextId == x.Context.ContextId && l.Text.StartsWith("phase:", StringComparison.Ordinal)).Select(l => l.Text);
        Assert.Equal(
            ["phase:context_create", "phase:request_headers", "phase:request_body", "phase:request_body",
             "phase:response_headers", "phase:response_body", "phase:response_body", "phase:response_body",
             "phase:done", "phase:log", "phase:delete"],
            request);

        plugin.Dispose();
        var all = h.Logs.Messages("phases", "phase:");
        Assert.Equal(["phase:root_done", "phase:root_delete"], all.TakeLast(2));
    }

    [Fact]
    public async Task Tagged_configuration_tags_every_phase_but_the_first_two()
    {
        using var h = new RealFilterHost();
        var plugin = h.Start(Phases, """{"tag":"t1"}""");
        await h.SendAsync(plugin, RequestSpec.Get());
        var lines = h.Logs.Messages("phases", "phase:");
        Assert.Equal(["phase:root_context_create", "phase:vm_start", "phase:configure tag=t1", "phase:context_create tag=t1"], lines.Take(4));
        Assert.Contains("phase:log tag=t1", lines);
    }

    [Theory]
    [InlineData("request_headers")]
    [InlineData("request_body")]
    [InlineData("response_headers")]
    public async Task A_local_response_before_response_headers_are_sent_replaces_the_response(string phase)
    {
        using var h = new RealFilterHost();
        var plugin = h.Start(Phases, "{\"" + phase + "\":{\"action\":\"local_response\",\"status\":403,\"body\":\"no\",\"headers\":{\"x-why\":\"test\"},\"details\":\"d\"}}");

        var x = await h.SendAsync(plugin, new RequestSpec { Method = "POST", RequestBody = ["body"], ResponseBody = ["upstream"] });

        Assert.Equal(FilterOutcomeKind.LocalResponse, x.OutcomeOf(phase).Kind);
        var local = x.Local!;
        Assert.Equal(403, local.StatusCode);
        Assert.Equal("no", Encoding.UTF8.GetString(local.Body.Span));
        Assert.Equal("d", local.Details);
        Assert.Null(local.GrpcStatus);
        Assert.Contains(KeyValuePair.Create("x-why", "test"), local.Headers);
        Assert.Contains("result:local_response=0", h.Logs.Messages("phases", "result:"));
        if (phase.StartsWith("request", StringComparison.Ordinal))
        {
            Assert.Equal("", x.ForwardedRequestBody); // the request never reached the upstream
            // response steps still run on the local response (abi doc §2.6)
            Assert.Contains("phase:response_headers", h.Logs.Messages("phases", "phase:"));
            Assert.Equal("403", x.ResponseHeader(":status"));
        }
    }

    [Theory]
    [InlineData("response_body")]
    [InlineData("log")]
    public async Task A_local_response_after_response_headers_were_sent_is_refused(string phase)
    {
        using var h = new RealFilterHost();
        var plugin = h.Start(Phases, "{\"" + phase + "\":{\"action\":\"local_response\",\"status\":403,\"body\":\"late\"}}");

        var x = await h.SendAsync(plugin, new RequestSpec { ResponseBody = ["upstream"] });

        Assert.Null(x.Local);
        Assert.DoesNotContain(x.Outcomes, o => o.Outcome.Kind == FilterOutcomeKind.LocalResponse);
        var results = h.Logs.Messages("phases", "result:local_response=");
        // spec §2.6: an error status (the filter logs it) or a trap (then the VM is failed) — never OK
        bool trapped = x.Outcomes.Any(o => o.Outcome.Kind == FilterOutcomeKind.Failed);
        Assert.True(trapped || (results.Count == 1 && results[0] != "result:local_response=0"), string.Join(", ", results));
        Assert.Equal("upstream", x.DeliveredResponseBody);
    }

    [Fact]
    public async Task A_request_paused_in_request_headers_is_resumed_from_a_tick()
    {
        using var h = new RealFilterHost();
        var plugin = h.Start(Phases, """{"configure":{"action":"tick","period_ms":20},"request_headers":"pause","tick":"resume"}""");
        var x = await h.SendAsync(plugin, RequestSpec.Get());
        Assert.Equal(FilterOutcome.Continue, x.OutcomeOf("request_headers"));
        Assert.Contains("result:resume=0", h.Logs.Messages("phases", "result:resume="));
        Assert.Contains("phase:tick", h.Logs.Messages("phases", "phase:"));
    }

    [Fact]
    public async Task Body_buffering_delivers_the_whole_body_once_at_end_of_stream()
    {
        using var h = new RealFilterHost();
        var plugin = h.Start(Phases, """{"request_body":["buffer",{"action":"get_body"}],"response_body":["buffer",{"action":"set_body","body":"new"}]}""");
        var x = await h.SendAsync(plugin, new RequestSpec { Method = "POST", RequestBody = ["one ", "two ", "three"], ResponseBody = ["a", "b", "c"] });
        Assert.Equal(FilterOutcome.Continue, x.Final);
        Assert.Equal(["body:one two three"], h.Logs.Messages("phases", "body:"));
        Assert.Equal("one two three", x.ForwardedRequestBody);
        Assert.Equal("new", x.DeliveredResponseBody);
        Assert.Equal(2, x.Outcomes.Count(o => o.Phase == "response_body" && o.Outcome.Kind == FilterOutcomeKind.BufferBody));
    }
}
