using ProxyWasm.Contexts;
using ProxyWasm.Http;
using ProxyWasm.Runtime;
using Xunit;

namespace ProxyWasm.Tests;

/// <summary>The host's per-filter figures (<see cref="FilterStats"/>): each counts its own event where it happens,
/// on a real VM (trap.wat: "h" traps in on_request_headers, "L" loops until the deadline).</summary>
public sealed class FilterStatsTests
{
    [Fact]
    public async Task A_trap_counts_as_a_trap_and_not_as_a_deadline_hit()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("trap.wat", "h", name: "trapper");
        using var http = plugin.CreateHttpContext(new InMemoryHttpStream());
        Assert.Equal(FilterOutcomeKind.Failed, (await http.OnRequestHeadersAsync(true)).Kind);
        var stats = t.Host.FilterStats.For("trapper");
        Assert.Equal(1, stats.Traps);
        Assert.Equal(0, stats.DeadlineHits);
        Assert.Equal(0, stats.FailOpenSkips);
    }

    [Fact]
    public async Task A_deadline_counts_as_a_deadline_hit_and_not_as_a_trap()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("trap.wat", "L", limits: new WasmLimits { CallDeadline = TimeSpan.FromMilliseconds(50) }, name: "spinner");
        using var http = plugin.CreateHttpContext(new InMemoryHttpStream());
        Assert.Equal(FilterOutcomeKind.Failed, (await http.OnRequestHeadersAsync(true)).Kind);
        var stats = t.Host.FilterStats.For("spinner");
        Assert.Equal(1, stats.DeadlineHits);
        Assert.Equal(0, stats.Traps);
        // the stopped callback's duration is recorded too, past the 50 ms deadline
        var headers = Assert.Single(stats.Callbacks(), c => c.Callback == "proxy_on_request_headers");
        Assert.Equal(1, headers.Count);
        Assert.True(headers.SumMs >= 50, $"{headers.SumMs} ms");
        Assert.Equal(1, headers.Buckets.Sum());
    }

    [Fact]
    public async Task A_fail_open_failure_counts_the_stream_that_went_on_without_the_filter()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("trap.wat", "h", policy: FailPolicy.FailOpen, name: "lenient");
        using var http = plugin.CreateHttpContext(new InMemoryHttpStream());
        Assert.Equal(FilterOutcome.Continue, await http.OnRequestHeadersAsync(true));
        var stats = t.Host.FilterStats.For("lenient");
        Assert.Equal(1, stats.FailOpenSkips);
        Assert.Equal(1, stats.Traps);
    }

    [Fact]
    public async Task Each_callback_of_a_healthy_filter_is_counted_under_its_name()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("trap.wat", "", name: "healthy");
        using (var http = plugin.CreateHttpContext(new InMemoryHttpStream()))
        {
            Assert.Equal(FilterOutcome.Continue, await http.OnRequestHeadersAsync(true));
        }
        var stats = t.Host.FilterStats.For("healthy");
        var headers = Assert.Single(stats.Callbacks(), c => c.Callback == "proxy_on_request_headers");
        Assert.True(headers.Count >= 1);
        Assert.Equal(headers.Count, headers.Buckets.Sum());
        Assert.Equal(0, stats.Traps + stats.DeadlineHits);
    }
}
