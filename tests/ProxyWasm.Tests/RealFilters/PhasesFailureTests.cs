using ProxyWasm.Http;
using ProxyWasm.Runtime;

namespace ProxyWasm.Tests.RealFilters;

/// <summary>
/// <c>filters/test/phases.wasm</c>: traps, deadline, memory limit and <c>proc_exit</c> per phase (README "Recipes").
/// Failing actions carry <c>"when_eos": true</c> so that a follow-up request that never sets end_of_stream in that
/// phase runs the whole chain on the replacement VM.
/// </summary>
public sealed class PhasesFailureTests
{
    private const string Phases = "filters/test/phases.wasm";

    /// <summary>A request failing in <paramref name="phase"/> (eos there), and one passing it (no eos there).</summary>
    private static (RequestSpec Failing, RequestSpec Passing) Requests(string phase) => phase switch
    {
        "request_headers" => (new RequestSpec(), new RequestSpec { Method = "POST", RequestBody = ["x"] }),
        "request_body" => (new RequestSpec { Method = "POST", RequestBody = ["x"] }, new RequestSpec()),
        "response_headers" => (new RequestSpec(), new RequestSpec { ResponseBody = ["x"] }),
        _ => (new RequestSpec { ResponseBody = ["x"] }, new RequestSpec()),
    };

    [Theory]
    [InlineData("request_headers")]
    [InlineData("request_body")]
    [InlineData("response_headers")]
    [InlineData("response_body")]
    public async Task A_trap_fails_the_request_and_the_vm_is_replaced(string phase)
    {
        using var h = new RealFilterHost();
        var plugin = h.Start(Phases, "{\"" + phase + "\":{\"action\":\"trap\",\"when_eos\":true}}");
        var (failing, passing) = Requests(phase);

        var x = await h.SendAsync(plugin, failing);

        Assert.Equal(FilterOutcomeKind.Failed, x.OutcomeOf(phase).Kind);
        Assert.Equal(phase, x.Outcomes.First(o => o.Outcome.Kind == FilterOutcomeKind.Failed).Phase);
        Assert.Contains("unreachable", x.Final.Error);
        Assert.True(x.Context.IsFailed);
        Assert.Contains("phase:" + phase, h.Logs.Messages("phases", "phase:")); // logged before the trap
        Assert.DoesNotContain("phase:log", h.Logs.Messages("phases", "phase:")); // no tail for a trapped instance (§2.7)

        var next = await h.SendAsync(plugin, passing);
        Assert.Equal(FilterOutcome.Continue, next.Final);
        Assert.InRange(RealFilterHost.VmsCreated(plugin), 2, 3); // a warm replacement, maybe one started on demand
        Assert.InRange(RealFilterHost.LiveVms(plugin), 1, 2);
        Assert.Contains("phase:log", h.Logs.Messages("phases", "phase:"));
    }

    [Theory]
    [InlineData("done")]
    [InlineData("log")]
    public async Task A_trap_in_the_request_tail_is_contained_after_the_response(string phase)
    {
        using var h = new RealFilterHost();
        var plugin = h.Start(Phases, "{\"" + phase + "\":\"trap\"}");

        var x = await h.SendAsync(plugin, new RequestSpec { ResponseBody = ["payload"] });
        var next = await h.SendAsync(plugin, new RequestSpec { ResponseBody = ["again"] });

        Assert.Equal("payload", x.DeliveredResponseBody); // the response was already complete
        Assert.Equal(FilterOutcomeKind.Failed, x.OutcomeOf("done").Kind);
        Assert.All(next.Outcomes.Where(o => o.Phase != "done"), o => Assert.Equal(FilterOutcome.Continue, o.Outcome));
        Assert.Equal("again", next.DeliveredResponseBody);
        Assert.True(await RealFilterHost.WaitUntilAsync(() => RealFilterHost.VmsCreated(plugin) >= 3), "each trapped VM is replaced");
    }

    [Fact]
    public async Task Other_requests_in_flight_are_untouched_by_a_trap()
    {
        using var h = new RealFilterHost();
        var plugin = h.Start(Phases, """{"request_headers":{"action":"trap","when_eos":true}}""");
        var (inFlight, _) = RealFilterHost.Open(plugin, RequestSpec.Get());

        var x = await h.SendAsync(plugin, RequestSpec.Get());

        Assert.Equal(FilterOutcomeKind.Failed, x.Final.Kind);
        Assert.False(inFlight.Context.IsFailed); // it leased a VM of its own
        Assert.Equal(FilterOutcome.Continue, await inFlight.Context.OnRequestHeadersAsync(false));
        inFlight.Context.Dispose();
    }

    [Theory]
    [InlineData("vm_start", "on_vm_start")]
    [InlineData("configure", "on_configure")]
    public void A_trap_in_a_root_phase_rejects_the_plugin(string phase, string stage)
    {
        using var h = new RealFilterHost();
        string config = "{\"" + phase + "\":\"trap\"}";
        var result = h.StartRejected(Phases, config);
        Assert.Equal(stage, result.Stage);
        Assert.False(h.Validate(Phases, config).Success);
    }

    [Fact]
    public async Task A_trapping_tick_recycles_the_vm_and_requests_keep_working()
    {
        using var h = new RealFilterHost();
        var plugin = h.Start(Phases, """{"configure":{"action":"tick","period_ms":20},"tick":"trap"}""");
        Assert.True(await RealFilterHost.WaitUntilAsync(() => RealFilterHost.VmsCreated(plugin) >= 3), $"VMs: {RealFilterHost.VmsCreated(plugin)}");
        var x = await h.SendAsync(plugin, RequestSpec.Get());
        Assert.Equal(FilterOutcome.Continue, x.Final);
    }

    [Fact]
    public async Task An_endless_loop_is_stopped_by_the_deadline_and_the_vm_replaced()
    {
        using var h = new RealFilterHost();
        var options = new PluginOptions { Limits = RealFilterHost.Relaxed with { CallDeadline = TimeSpan.FromMilliseconds(300) } };
        var plugin = h.Start(Phases, """{"request_headers":{"action":"loop","when_eos":true}}""", options);

        var x = await h.SendAsync(plugin, RequestSpec.Get());

        Assert.Equal(FilterOutcomeKind.Failed, x.OutcomeOf("request_headers").Kind);
        Assert.Contains("interrupt", x.Final.Error);
        var next = await h.SendAsync(plugin, new RequestSpec { Method = "POST", RequestBody = ["x"] });
        Assert.Equal(FilterOutcome.Continue, next.Final);
        Assert.InRange(RealFilterHost.VmsCreated(plugin), 2, 3); // the warm replacement, or one started on demand
    }

    [Fact]
    public async Task Memory_growth_stops_at_the_limit_without_failing_the_request()
    {
        using var h = new RealFilterHost();
        const int limitPages = 16; // 1 MiB
        var options = new PluginOptions { Limits = RealFilterHost.Relaxed with { MaxMemoryBytes = limitPages * 65536 } };
        var plugin = h.Start(Phases, """{"request_headers":{"action":"grow"}}""", options);

        var first = await h.SendAsync(plugin, RequestSpec.Get());
        var second = await h.SendAsync(plugin, RequestSpec.Get());

        Assert.Equal(FilterOutcome.Continue, first.Final);
        Assert.Equal(FilterOutcome.Continue, second.Final);
        var grows = h.Logs.Messages("phases", "grow:");
        Assert.Equal(2, grows.Count);
        int pages = int.Parse(grows[0]["grow:pages=".Length..grows[0].IndexOf(' ', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(pages, 1, limitPages - 2); // the module starts at 2 pages
        Assert.EndsWith("failed=true", grows[0]);
        Assert.Equal("grow:pages=0 failed=true", grows[1]); // already at the cap
    }

    [Fact]
    public async Task Memory_growth_followed_by_a_trap_fails_the_request_and_the_vm_is_replaced()
    {
        using var h = new RealFilterHost();
        var options = new PluginOptions { Limits = RealFilterHost.Relaxed with { MaxMemoryBytes = 16 * 65536 } };
        var plugin = h.Start(Phases, """{"request_headers":[{"action":"grow","when_eos":true},{"action":"trap","when_eos":true}]}""", options);
        var x = await h.SendAsync(plugin, RequestSpec.Get());
        Assert.Equal(FilterOutcomeKind.Failed, x.Final.Kind);
        var next = await h.SendAsync(plugin, new RequestSpec { Method = "POST", RequestBody = ["x"] });
        Assert.Equal(FilterOutcome.Continue, next.Final);
        Assert.InRange(RealFilterHost.VmsCreated(plugin), 2, 3); // the warm replacement, or one started on demand
    }

    [Fact]
    public async Task Proc_exit_with_a_non_zero_code_fails_the_request_and_the_vm_is_replaced()
    {
        using var h = new RealFilterHost();
        var plugin = h.Start(Phases, """{"request_headers":{"action":"proc_exit","code":3,"when_eos":true}}""");
        var x = await h.SendAsync(plugin, RequestSpec.Get());
        Assert.Equal(FilterOutcomeKind.Failed, x.Final.Kind);
        Assert.Contains("3", x.Final.Error);
        var next = await h.SendAsync(plugin, new RequestSpec { Method = "POST", RequestBody = ["x"] });
        Assert.Equal(FilterOutcome.Continue, next.Final);
        Assert.InRange(RealFilterHost.VmsCreated(plugin), 2, 3); // the warm replacement, or one started on demand
    }

    [Fact]
    public void Proc_exit_in_configure_rejects_the_plugin()
    {
        using var h = new RealFilterHost();
        var result = h.StartRejected(Phases, """{"configure":{"action":"proc_exit","code":1}}""");
        Assert.Equal("on_configure", result.Stage);
    }
}
