using System.Text;
using ProxyWasm.Http;
using ProxyWasm.Runtime;

namespace ProxyWasm.Tests;

/// <summary>Callback order, local responses at each phase, pause/continue, close, proxy_done — phases.wat.</summary>
public sealed class PhaseTests
{
    private static List<string> Callbacks(TestHost t, string plugin = "phases")
        => t.Logs.Messages().Where(m => m.StartsWith($"[{plugin}#", StringComparison.Ordinal)).Select(m => m[(m.IndexOf(']') + 2)..]).ToList();

    private static long SlrStatus(TestHost t) => t.Host.Metrics.Find("phases", "slr_status")!.Value - 1000;

    [Fact]
    public async Task Full_request_runs_every_callback_in_order()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("phases.wat", "-");
        var stream = new InMemoryHttpStream("POST");
        using var http = plugin.CreateHttpContext(stream);
        stream.RequestTrailers.Add("t", "1");
        Assert.Equal(FilterOutcome.Continue, await http.OnRequestHeadersAsync(false));
        Assert.Equal(FilterOutcome.Continue, await http.OnRequestBodyAsync(false));
        Assert.Equal(FilterOutcome.Continue, await http.OnRequestTrailersAsync());
        Assert.Equal(FilterOutcome.Continue, await http.OnResponseHeadersAsync(false));
        Assert.Equal(FilterOutcome.Continue, await http.OnResponseBodyAsync(false));
        Assert.Equal(FilterOutcome.Continue, await http.OnResponseTrailersAsync());
        Assert.Equal(FilterOutcome.Continue, await http.OnDoneAsync());
        Assert.Equal(["create", "request_headers", "request_body", "request_trailers", "response_headers", "response_body", "response_trailers", "done", "log", "delete"], Callbacks(t));
    }

    [Theory]
    [InlineData("a", 401)]
    [InlineData("b", 402)]
    [InlineData("c", 403)]
    public async Task Local_response_from_each_phase(string mode, int status)
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("phases.wat", mode);
        var stream = new InMemoryHttpStream("POST");
        using var http = plugin.CreateHttpContext(stream);
        var outcomes = new List<FilterOutcome> { await http.OnRequestHeadersAsync(false) };
        if (outcomes[^1].Kind == FilterOutcomeKind.Continue) outcomes.Add(await http.OnRequestBodyAsync(true));
        if (outcomes[^1].Kind == FilterOutcomeKind.Continue) outcomes.Add(await http.OnResponseHeadersAsync(false));
        var local = outcomes[^1];
        Assert.Equal(FilterOutcomeKind.LocalResponse, local.Kind);
        Assert.Equal(status, local.LocalResponse!.StatusCode);
        Assert.Equal("local body", Encoding.UTF8.GetString(local.LocalResponse.Body.Span));
        Assert.Equal(KeyValuePair.Create("x-local", "y"), Assert.Single(local.LocalResponse.Headers));
        Assert.Equal(0, SlrStatus(t));
        // the embedder then runs the response phases on the local response; they still reach the filter
        if (mode != "c") Assert.Equal(FilterOutcome.Continue, await http.OnResponseHeadersAsync(false));
        Assert.Equal(FilterOutcome.Continue, await http.OnResponseBodyAsync(true));
        await http.OnDoneAsync();
        Assert.Contains("response_body", Callbacks(t));
    }

    [Fact]
    public async Task Local_response_after_response_headers_were_sent_is_refused()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("phases.wat", "d");
        using var http = plugin.CreateHttpContext(new InMemoryHttpStream());
        await http.OnRequestHeadersAsync(true);
        await http.OnResponseHeadersAsync(false);
        Assert.Equal(FilterOutcome.Continue, await http.OnResponseBodyAsync(true));
        Assert.Equal(2, SlrStatus(t)); // BAD_ARGUMENT
    }

    [Theory]
    [InlineData("q")]
    [InlineData("p")]
    public async Task Paused_phase_resumes_when_the_filter_calls_continue_from_a_tick(string mode)
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("phases.wat", mode);
        using var http = plugin.CreateHttpContext(new InMemoryHttpStream());
        var first = http.OnRequestHeadersAsync(true);
        if (mode == "p")
        {
            Assert.Equal(FilterOutcome.Continue, await first);
            first = http.OnResponseHeadersAsync(false);
        }
        Assert.False(first.IsCompleted);
        Assert.Equal(FilterOutcome.Continue, await first.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("tick", Callbacks(t));
    }

    [Fact]
    public async Task Close_stream_reports_closed()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("phases.wat", "x");
        using var http = plugin.CreateHttpContext(new InMemoryHttpStream());
        Assert.Equal(FilterOutcomeKind.Closed, (await http.OnRequestHeadersAsync(true)).Kind);
    }

    [Fact]
    public async Task On_done_false_defers_log_and_delete_until_proxy_done()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("phases.wat", "n");
        using var http = plugin.CreateHttpContext(new InMemoryHttpStream());
        await http.OnRequestHeadersAsync(true);
        await http.OnDoneAsync();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!Callbacks(t).Contains("delete") && DateTime.UtcNow < deadline) await Task.Delay(5);
        var order = Callbacks(t);
        Assert.True(order.IndexOf("done") < order.IndexOf("tick"));
        Assert.True(order.IndexOf("tick") < order.IndexOf("log"));
        Assert.True(order.IndexOf("log") < order.IndexOf("delete"));
    }

    [Fact]
    public void Start_up_runs_start_section_then_initialize_then_main_and_never_start()
    {
        using var t = new TestHost();
        using var plugin = t.Host.CreatePlugin(t.Load("init.wat"), new FilterPluginConfig { Name = "init", PoolSize = 1, VmConfiguration = "vm-config-bytes"u8.ToArray() });
        Assert.Equal(["start-section", "initialize", "main", "vm-config-bytes", "configure"], t.Logs.Messages().Where(m => m.StartsWith("[init#", StringComparison.Ordinal)).Select(m => m[(m.IndexOf(']') + 2)..]));
        Assert.Contains("[init#0] start-section", t.Logs.Messages()); // no context yet during instantiation
    }

    [Fact]
    public void A_failing_allocator_yields_invalid_memory_access()
    {
        using var t = new TestHost();
        using var plugin = t.Host.CreatePlugin(t.Load("badmalloc.wat"), new FilterPluginConfig { Name = "bad", PoolSize = 1 });
        Assert.Equal(6, Guest.Root(plugin).Call("get_plugin_name"));
    }
}
