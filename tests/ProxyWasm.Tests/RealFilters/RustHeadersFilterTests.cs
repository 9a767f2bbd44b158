using System.Text;
using ProxyWasm.Abi;
using ProxyWasm.Http;

namespace ProxyWasm.Tests.RealFilters;

/// <summary><c>filters/rust/headers/rust_headers.wasm</c> (raw-ABI Rust, filters/rust/README.md §3).</summary>
public sealed class RustHeadersFilterTests
{
    private const string Rust = "filters/rust/headers/rust_headers.wasm";

    private const string Full = """
        {
          "request":  { "remove": ["x-a"], "rename": {"x-old": "x-new"}, "set": {"x-b": "v"}, "add": {"x-c": "v"} },
          "response": { "remove": ["server"], "add": {"x-d": "v"} },
          "request_body":  { "prepend": "[", "append": "]" },
          "response_body": { "prepend": "<", "append": "\n-- rust" },
          "local_response": { "path": "/rust-local", "status": 202, "body": "text", "headers": {"x-e": "v"} },
          "echo_path_header": "x-echo-path"
        }
        """;

    [Fact]
    public void The_module_is_abi_0_2_1_with_no_init_export()
    {
        using var h = new RealFilterHost();
        Assert.Equal(AbiVersion.V0_2_1, h.AbiOf(Rust));
        Assert.Empty(h.Load(Rust).StubbedImports);
        h.Start(Rust, Full);
        Assert.Contains(h.Logs.Filter("rust_headers"), l => l.Text == $"rust_headers: configured ({Encoding.UTF8.GetByteCount(Full)} bytes)");
    }

    [Fact]
    public async Task Header_operations_apply_in_order_on_both_maps()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Rust, Full);

        var x = await h.SendAsync(p, new RequestSpec
        {
            Path = "/orig?q=1",
            Headers = [("X-A", "1"), ("x-a", "2"), ("x-old", "o1"), ("x-old", "o2"), ("x-b", "old"), ("x-c", "first")],
            ResponseHeaders = [("Server", "up"), ("x-d", "existing")],
        });

        Assert.Equal(FilterOutcome.Continue, x.Final);
        var rq = x.Stream.RequestHeaders;
        Assert.Empty(rq.GetValues("x-a"));
        Assert.Empty(rq.GetValues("x-old"));
        Assert.Equal(["o1"], rq.GetValues("x-new")); // rename keeps the first value
        Assert.Equal(["v"], rq.GetValues("x-b"));
        Assert.Equal(["first", "v"], rq.GetValues("x-c"));
        var rs = x.Stream.ResponseHeaders;
        Assert.Empty(rs.GetValues("server"));
        Assert.Equal(["existing", "v"], rs.GetValues("x-d"));
        Assert.Equal(["/orig?q=1"], rs.GetValues("x-echo-path"));
    }

    [Fact]
    public async Task Bodies_are_buffered_until_end_of_stream_then_prepended_and_appended()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Rust, Full);

        var x = await h.SendAsync(p, new RequestSpec
        {
            Method = "POST",
            Headers = [("content-length", "6")],
            RequestBody = ["ab", "cd", "ef"],
            ResponseHeaders = [("content-length", "5")],
            ResponseBody = ["hel", "lo"],
        });

        Assert.Equal(FilterOutcome.Continue, x.Final);
        Assert.Equal("[abcdef]", x.ForwardedRequestBody);
        Assert.Equal("<hello\n-- rust", x.DeliveredResponseBody);
        Assert.Null(x.RequestHeader("content-length"));
        Assert.Null(x.ResponseHeader("content-length"));
        Assert.Equal(
            [FilterOutcomeKind.BufferBody, FilterOutcomeKind.BufferBody, FilterOutcomeKind.Continue],
            x.Outcomes.Where(o => o.Phase == "request_body").Select(o => o.Outcome.Kind));
        Assert.Equal(
            [FilterOutcomeKind.BufferBody, FilterOutcomeKind.Continue],
            x.Outcomes.Where(o => o.Phase == "response_body").Select(o => o.Outcome.Kind));
    }

    [Fact]
    public async Task Without_body_rewriting_chunks_stream_through_and_content_length_stays()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Rust, """{"request":{"add":{"x-c":"v"}}}""");
        var x = await h.SendAsync(p, new RequestSpec { Method = "POST", Headers = [("content-length", "4")], RequestBody = ["ab", "cd"], ResponseBody = ["xy"] });
        Assert.Equal("abcd", x.ForwardedRequestBody);
        Assert.Equal("4", x.RequestHeader("content-length"));
        Assert.DoesNotContain(x.Outcomes, o => o.Outcome.Kind == FilterOutcomeKind.BufferBody);
    }

    [Fact]
    public async Task The_configured_path_gets_a_local_response_without_request_edits()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Rust, Full);

        var x = await h.SendAsync(p, RequestSpec.Get("/rust-local?ignored=1", ("x-a", "1")));

        Assert.Equal(FilterOutcomeKind.LocalResponse, x.OutcomeOf("request_headers").Kind);
        Assert.Equal(202, x.Local!.StatusCode);
        Assert.Equal("text", Encoding.UTF8.GetString(x.Local.Body.Span));
        Assert.Equal("rust_headers_local", x.Local.Details);
        Assert.Contains(KeyValuePair.Create("x-e", "v"), x.Local.Headers);
        Assert.Equal(["1"], x.Stream.RequestHeaders.GetValues("x-a"));
        Assert.Contains("rust_headers: local response 202 for /rust-local", h.Logs.Filter("rust_headers").Select(l => l.Text));

        var other = await h.SendAsync(p, RequestSpec.Get("/rust-local/deeper"));
        Assert.Null(other.Local);
    }

    [Theory]
    [InlineData("""{"nope":1}""", "unknown key nope")]
    [InlineData("""{"request":{"add":{"a":1}}}""", "request.add.a must be a string")]
    [InlineData("[]", "configuration must be a JSON object, got array")]
    [InlineData("""{"local_response":{"path":"/x","status":1000}}""", "local_response.status must be an integer in 100..999")]
    public void A_bad_configuration_is_rejected_with_the_filters_reason(string config, string reason)
    {
        using var h = new RealFilterHost();
        var result = h.Validate(Rust, config);
        Assert.False(result.Success);
        Assert.Equal("on_configure", result.Stage);
        Assert.Contains("rust_headers: invalid configuration: " + reason, result.Error);
    }

    [Fact]
    public async Task Empty_configuration_is_a_no_op()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Rust, "  ");
        var x = await h.SendAsync(p, new RequestSpec { Headers = [("x-a", "1")], ResponseBody = ["b"] });
        Assert.Equal(FilterOutcome.Continue, x.Final);
        Assert.Equal(["1"], x.Stream.RequestHeaders.GetValues("x-a"));
        Assert.Equal("b", x.DeliveredResponseBody);
    }
}
