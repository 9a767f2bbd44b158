using ProxyWasm.Abi;
using ProxyWasm.Http;

namespace ProxyWasm.Tests.RealFilters;

/// <summary><c>filters/test/noop|bench-headers|bench-body.wasm</c> — the benchmark filters (filters/test/README.md).</summary>
public sealed class BenchFilterTests
{
    [Fact]
    public async Task Noop_continues_everywhere_and_changes_nothing()
    {
        using var h = new RealFilterHost();
        Assert.Equal(AbiVersion.V0_2_1, h.AbiOf("filters/test/noop.wasm"));
        var p = h.Start("filters/test/noop.wasm", "ignored");
        var x = await h.SendAsync(p, new RequestSpec { Method = "POST", Headers = [("a", "1")], RequestBody = ["x", "y"], ResponseBody = ["z"] });
        Assert.All(x.Outcomes, o => Assert.Equal(FilterOutcome.Continue, o.Outcome));
        Assert.Equal(5, x.Stream.RequestHeaders.Count);
        Assert.Equal("xy", x.ForwardedRequestBody);
        Assert.Equal("z", x.DeliveredResponseBody);
        Assert.Empty(h.Logs.Filter("noop"));
    }

    [Fact]
    public async Task Bench_headers_adds_two_request_headers_and_one_response_header()
    {
        using var h = new RealFilterHost();
        var p = h.Start("filters/test/bench-headers.wasm");
        var x = await h.SendAsync(p, RequestSpec.Get("/", ("x-bench-1", "0")));
        Assert.Equal(["0", "1"], x.Stream.RequestHeaders.GetValues("x-bench-1")); // added, not replaced
        Assert.Equal(["2"], x.Stream.RequestHeaders.GetValues("x-bench-2"));
        Assert.Equal(["1"], x.Stream.ResponseHeaders.GetValues("x-bench"));
    }

    [Fact]
    public async Task Bench_body_buffers_and_upper_cases_the_request_body()
    {
        using var h = new RealFilterHost();
        var p = h.Start("filters/test/bench-body.wasm");
        var x = await h.SendAsync(p, new RequestSpec { Method = "POST", RequestBody = ["hello ", "wOrld", " 42!"] });
        Assert.Equal("HELLO WORLD 42!", x.ForwardedRequestBody);
        Assert.Equal(
            [FilterOutcomeKind.BufferBody, FilterOutcomeKind.BufferBody, FilterOutcomeKind.Continue],
            x.Outcomes.Where(o => o.Phase == "request_body").Select(o => o.Outcome.Kind));
    }
}
