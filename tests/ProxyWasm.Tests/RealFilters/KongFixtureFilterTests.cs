using System.Text;
using Microsoft.Extensions.Logging;
using ProxyWasm.Abi;
using ProxyWasm.Http;

namespace ProxyWasm.Tests.RealFilters;

/// <summary>
/// The Kong-compatible Rust fixtures <c>filters/rust/kong-tests/{tests,response_transformer}.wasm</c>
/// (filters/rust/README.md §4–5).
/// </summary>
public sealed class KongFixtureFilterTests
{
    private const string Tests = "filters/rust/kong-tests/tests.wasm";
    private const string Transformer = "filters/rust/kong-tests/response_transformer.wasm";

    [Fact]
    public async Task Response_transformer_applies_remove_rename_replace_add_append_in_order()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Transformer, """
            {"remove":{"headers":["server"]},"rename":{"headers":["x-old:x-new","x-gone:x-target"]},
             "replace":{"headers":["x-r:new","x-absent:no"]},"add":{"headers":["x-add:1","x-exists:no"]},
             "append":{"headers":["x-app:a","x-app:b"]}}
            """);

        var x = await h.SendAsync(p, new RequestSpec
        {
            ResponseHeaders = [("Server", "up"), ("x-old", "o"), ("x-target", "t"), ("x-r", "old"), ("x-exists", "yes"), ("x-app", "0")],
        });

        var rs = x.Stream.ResponseHeaders;
        Assert.Empty(rs.GetValues("server"));
        Assert.Equal(["o"], rs.GetValues("x-new"));
        Assert.Empty(rs.GetValues("x-old"));
        Assert.Empty(rs.GetValues("x-target")); // rename of an absent header removes the target
        Assert.Equal(["new"], rs.GetValues("x-r"));
        Assert.Empty(rs.GetValues("x-absent"));
        Assert.Equal(["1"], rs.GetValues("x-add"));
        Assert.Equal(["yes"], rs.GetValues("x-exists"));
        Assert.Equal(["0", "a", "b"], rs.GetValues("x-app"));
        Assert.Contains("[response-transformer] removing header: server", h.Logs.Filter("response_transformer").Select(l => l.Text));
    }

    [Fact]
    public async Task Tests_filter_trap_fails_the_request_and_the_vm_is_replaced()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Tests, "name=t");
        var x = await h.SendAsync(p, RequestSpec.Get("/", ("X-PW-Test", "trap")));
        Assert.Equal(FilterOutcomeKind.Failed, x.OutcomeOf("request_headers").Kind);
        Assert.Contains("unreachable", x.Final.Error);
        var next = await h.SendAsync(p, RequestSpec.Get());
        Assert.Equal(FilterOutcome.Continue, next.Final);
        // the first VM and its background replacement, or a third if the next request came before that was idle
        Assert.InRange(RealFilterHost.VmsCreated(p), 2, 3);
    }

    [Fact]
    public async Task Tests_filter_panic_message_reaches_the_log_as_one_error_line()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Tests, "");
        await h.SendAsync(p, RequestSpec.Get("/", ("X-PW-Test", "trap")));
        // Rust std writes a panic message to fd 2 in several fd_write calls; abi doc §3 (fd_write row: "Buffer per
        // context: a panic message may come in several writes") asks the host to assemble it into one ERROR line.
        var errors = h.Logs.Filter("tests").Where(l => l.Level == LogLevel.Error).Select(l => l.Text).ToList();
        Assert.Contains(errors, t => t.Contains("panicked at 'trap msg', tests.rs:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Tests_filter_local_response_and_dump_config()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Tests, "name=first add_resp_header=X-Plugin=present");
        var local = await h.SendAsync(p, RequestSpec.Get("/", ("X-PW-Test", "local_response"), ("X-PW-Input", "hi there")));
        Assert.Equal(200, local.Local!.StatusCode);
        Assert.Equal("hi there", Encoding.UTF8.GetString(local.Local.Body.Span));
        Assert.Equal("tests_local_response", local.Local.Details);
        Assert.Equal("present", local.ResponseHeader("X-Plugin"));

        var dump = await h.SendAsync(p, RequestSpec.Get("/", ("X-PW-Test", "dump_config")));
        Assert.Equal("name=first add_resp_header=X-Plugin=present", Encoding.UTF8.GetString(dump.Local!.Body.Span));
    }

    [Fact]
    public async Task Tests_filter_adds_headers_in_the_selected_phase_and_removes_control_headers()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Tests, "");
        var x = await h.SendAsync(p, RequestSpec.Get("/", ("X-PW-Phase", "response_headers"), ("X-PW-Test", "none"), ("X-PW-Add-Resp-Header", "Via=proxy-wasm"), ("X-PW-Add-Header", "x-up=1")));
        Assert.Equal("proxy-wasm", x.ResponseHeader("via"));
        Assert.Null(x.RequestHeader("x-pw-test"));
        Assert.Null(x.RequestHeader("x-pw-phase"));
        Assert.Contains("[proxy-wasm] testing in \"ResponseHeaders\"", h.Logs.Filter("tests").Select(l => l.Text));
    }

    [Fact]
    public async Task Tests_filter_dispatch_echo_goes_through_the_embedders_dispatcher()
    {
        var dispatcher = new InProcessDispatcher(new Dictionary<string, Func<HttpCallRequest, HttpCallResponse>>
        {
            ["echo.local"] = r => HttpCallResponse.Ok(200, Encoding.UTF8.GetBytes("  echoed " + r.Header(":path") + " " + Encoding.UTF8.GetString(r.Body.Span) + "\n")),
        });
        using var h = new RealFilterHost(dispatcher);
        var p = h.Start(Tests, "");

        var x = await h.SendAsync(p, RequestSpec.Get("/", ("X-PW-Test", "echo_http_dispatch"), ("X-PW-Input", "host=echo.local path=/e method=POST body=ping timeout=2s headers=a:b"), ("X-PW-Dispatch-Echo", "on")));

        Assert.Equal(FilterOutcomeKind.LocalResponse, x.OutcomeOf("request_headers").Kind);
        Assert.Equal("echoed /e ping", Encoding.UTF8.GetString(x.Local!.Body.Span));
        var call = Assert.Single(dispatcher.Calls);
        Assert.Equal("POST", call.Header(":method"));
        Assert.Equal("echo.local", call.Header(":authority"));
        Assert.Equal("b", call.Header("a"));
        Assert.Equal(TimeSpan.FromSeconds(2), call.Timeout);
    }

    [Fact]
    public async Task Tests_filter_metrics_land_in_the_registry()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Tests, "");
        await h.SendAsync(p, RequestSpec.Get("/", ("X-PW-Test", "update_metrics"), ("X-PW-Input", "counter.c1=3 gauge.g1=7 histogram.h1=9")));
        await h.SendAsync(p, RequestSpec.Get("/", ("X-PW-Test", "update_metrics"), ("X-PW-Input", "counter.c1=2 gauge.g1=4 histogram.h1=1")));
        Assert.Equal((MetricType.Counter, 5L), (h.Metric("tests", "c1")!.Type, h.Metric("tests", "c1")!.Value));
        Assert.Equal((MetricType.Gauge, 4L), (h.Metric("tests", "g1")!.Type, h.Metric("tests", "g1")!.Value));
        var hist = h.Metric("tests", "h1")!;
        Assert.Equal((MetricType.Histogram, 2L, 10L), (hist.Type, hist.Count, hist.Value));
    }
}
