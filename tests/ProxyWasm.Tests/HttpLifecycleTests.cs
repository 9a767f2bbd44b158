using System.Text;
using ProxyWasm.Http;
using ProxyWasm.Runtime;

namespace ProxyWasm.Tests;

public sealed class HttpLifecycleTests
{
    [Fact]
    public async Task Request_headers_are_added_replaced_and_removed()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("probe.wat");
        var stream = new InMemoryHttpStream(path: "/original");
        stream.RequestHeaders.Add("x-remove", "1");
        stream.RequestHeaders.Add("X-Remove", "2");
        using var http = plugin.CreateHttpContext(stream);
        Assert.Equal(FilterOutcome.Continue, await http.OnRequestHeadersAsync(true));
        Assert.Equal(["yes"], stream.RequestHeaders.GetValues("x-wasm"));
        Assert.Equal(["/rewritten"], stream.RequestHeaders.GetValues(":path"));
        Assert.Empty(stream.RequestHeaders.GetValues("x-remove"));
    }

    [Fact]
    public async Task Request_body_is_buffered_until_end_of_stream_then_modified()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("probe.wat");
        var stream = new InMemoryHttpStream("POST");
        using var http = plugin.CreateHttpContext(stream);
        await http.OnRequestHeadersAsync(false);
        stream.RequestBody.Append("hel"u8);
        Assert.Equal(FilterOutcomeKind.BufferBody, (await http.OnRequestBodyAsync(false)).Kind);
        stream.RequestBody.Append("lo"u8);
        Assert.Equal(FilterOutcome.Continue, await http.OnRequestBodyAsync(true));
        Assert.Equal("hello!", Encoding.UTF8.GetString(stream.RequestBody.Span));
    }

    [Fact]
    public async Task Response_body_is_buffered_until_end_of_stream_then_prepended()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("probe.wat");
        var stream = new InMemoryHttpStream();
        using var http = plugin.CreateHttpContext(stream);
        await http.OnRequestHeadersAsync(true);
        stream.ResponseHeaders.Add(":status", "200");
        Assert.Equal(FilterOutcome.Continue, await http.OnResponseHeadersAsync(false));
        stream.ResponseBody.Append("wor"u8);
        Assert.Equal(FilterOutcomeKind.BufferBody, (await http.OnResponseBodyAsync(false)).Kind);
        stream.ResponseBody.Append("ld"u8);
        Assert.Equal(FilterOutcome.Continue, await http.OnResponseBodyAsync(true));
        Assert.Equal("<world", Encoding.UTF8.GetString(stream.ResponseBody.Span));
    }

    [Fact]
    public async Task Done_runs_on_done_then_on_log_then_on_delete()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("probe.wat");
        var http = plugin.CreateHttpContext(new InMemoryHttpStream());
        int before = plugin.Vms[0].LiveContextCount;
        await http.OnRequestHeadersAsync(true);
        Assert.Equal(FilterOutcome.Continue, await http.OnDoneAsync());
        Assert.True(t.Logs.Contains($"[probe#{http.ContextId}] hello from probe"));
        Assert.Equal(before - 1, plugin.Vms[0].LiveContextCount);
        http.Dispose();
    }

    [Fact]
    public void Configure_rejection_is_a_validation_error_and_create_throws()
    {
        using var t = new TestHost();
        var module = t.Load("probe.wat");
        var result = t.Host.Validate(module, "reject"u8.ToArray());
        Assert.False(result.Success);
        Assert.Equal("on_configure", result.Stage);
        Assert.Contains("reject", result.Error); // the filter's own error log is included
        Assert.True(t.Host.Validate(module, "fine"u8.ToArray()).Success);
        var ex = Assert.Throws<FilterConfigurationException>(() => t.Plugin("probe.wat", "reject"));
        Assert.Equal("on_configure", ex.Result.Stage);
    }

    [Fact]
    public async Task Http_call_pauses_the_request_and_the_response_resumes_it()
    {
        var dispatcher = new FakeDispatcher(_ => Task.FromResult(HttpCallResponse.Ok(200, "granted"u8.ToArray())));
        using var t = new TestHost(dispatcher);
        using var plugin = t.Plugin("probe.wat");
        var stream = new InMemoryHttpStream();
        stream.RequestHeaders.Add("x-call-body", "placeholder");
        using var http = plugin.CreateHttpContext(stream);
        var pending = http.OnRequestHeadersAsync(true);
        var outcome = await pending.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(FilterOutcome.Continue, outcome);
        Assert.Equal(["granted"], stream.RequestHeaders.GetValues("x-call-body"));
        var request = Assert.Single(dispatcher.Requests);
        Assert.Equal("upstream", request.Upstream);
        Assert.Equal("/auth", request.Header(":path"));
        Assert.Equal(TimeSpan.FromSeconds(1), request.Timeout);
    }

    [Fact]
    public async Task Failed_http_call_turns_into_a_local_response_from_the_callback()
    {
        var dispatcher = new FakeDispatcher(_ => Task.FromException<HttpCallResponse>(new IOException("refused")));
        using var t = new TestHost(dispatcher);
        using var plugin = t.Plugin("probe.wat");
        var stream = new InMemoryHttpStream();
        stream.RequestHeaders.Add("x-call-body", "x");
        using var http = plugin.CreateHttpContext(stream);
        var outcome = await http.OnRequestHeadersAsync(true).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(FilterOutcomeKind.LocalResponse, outcome.Kind);
        Assert.Equal(503, outcome.LocalResponse!.StatusCode);
        Assert.Equal("denied", Encoding.UTF8.GetString(outcome.LocalResponse.Body.Span));
        Assert.Null(outcome.LocalResponse.GrpcStatus);
    }

    [Fact]
    public async Task Abi_0_1_0_module_gets_two_argument_callbacks_and_ok_for_missing_headers()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("abi010.wat", config: "cfg-010");
        var stream = new InMemoryHttpStream();
        using var http = plugin.CreateHttpContext(stream);
        var pending = http.OnRequestHeadersAsync(true);
        Assert.False(pending.IsCompleted); // returned Pause: waits for proxy_continue_request
        Assert.Equal(["0"], stream.ResponseHeaders.GetValues("x-status")); // OK for the missing header
        Assert.Equal(["0"], stream.ResponseHeaders.GetValues("x-size"));   // with an empty value
        Assert.Equal(["cfg-010"], stream.ResponseHeaders.GetValues("x-config"));
        http.Dispose();
        Assert.Equal(FilterOutcomeKind.Failed, (await pending).Kind);
    }

    [Fact]
    public async Task Concurrent_requests_share_the_vm_with_contexts_of_their_own()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("probe.wat", pool: 1);
        var contexts = Enumerable.Range(0, 5).Select(_ => plugin.CreateHttpContext(new InMemoryHttpStream())).ToList();
        Assert.Single(contexts.Select(c => c.Vm).Distinct());
        Assert.Equal(5, contexts.Select(c => c.ContextId).Distinct().Count());
        foreach (var c in contexts) Assert.Equal(FilterOutcome.Continue, await c.OnRequestHeadersAsync(true));
        foreach (var c in contexts) c.Dispose();
        Assert.Equal(1, plugin.VmsCreated);
        Assert.All(plugin.Vms, vm => Assert.Equal(1, vm.LiveContextCount)); // only the root remains
    }
}

internal sealed class FakeDispatcher(Func<HttpCallRequest, Task<HttpCallResponse>> respond) : IHttpCallDispatcher
{
    public List<HttpCallRequest> Requests { get; } = [];

    public bool IsKnownUpstream(string upstream) => upstream == "upstream";

    public Task<HttpCallResponse> SendAsync(HttpCallRequest request, CancellationToken cancellationToken)
    {
        lock (Requests) Requests.Add(request);
        return respond(request);
    }
}
