using System.Text;
using Microsoft.Extensions.Logging;
using ProxyWasm.Abi;
using ProxyWasm.Http;

namespace ProxyWasm.Tests.RealFilters;

/// <summary><c>filters/assemblyscript/as_headers.wasm</c> (AS SDK 0.1.8, ABI 0.2.0, start section) — its README is the contract.</summary>
public sealed class AssemblyScriptFilterTests
{
    private const string As = "filters/assemblyscript/as_headers.wasm";
    private static readonly PluginOptions AsRoot = new() { RootId = "as_headers" };

    [Fact]
    public void The_module_is_abi_0_2_0_and_every_import_is_implemented()
    {
        using var h = new RealFilterHost();
        Assert.Equal(AbiVersion.V0_2_0, h.AbiOf(As));
        Assert.Empty(h.Load(As).StubbedImports); // incl. wasi_unstable.proc_exit
    }

    [Theory]
    [InlineData("as_headers")]
    [InlineData("")]
    public void The_start_section_runs_and_the_root_id_selects_the_factory(string rootId)
    {
        using var h = new RealFilterHost();
        h.Start(As, "cfg-1", new PluginOptions { RootId = rootId });
        var lines = h.Logs.Filter("as_headers");
        Assert.Contains(lines, l => l.Text == "as_headers: on_configure (5 bytes): cfg-1" && l.Level == LogLevel.Information);
        Assert.DoesNotContain(lines, l => l.Level >= LogLevel.Error);
    }

    [Fact]
    public void An_unknown_root_id_makes_the_sdk_exit_and_the_plugin_is_rejected()
    {
        using var h = new RealFilterHost();
        var result = h.StartRejected(As, "", new PluginOptions { RootId = "someone-else" });
        Assert.Equal("on_context_create", result.Stage);
        Assert.True(h.Logs.Contains("Missing root context factory for root id: someone-else", LogLevel.Critical));
    }

    [Fact]
    public async Task Request_headers_are_edited_and_the_configuration_is_reported()
    {
        using var h = new RealFilterHost();
        var p = h.Start(As, "blue", AsRoot);

        var x = await h.SendAsync(p, new RequestSpec { Method = "PUT", Path = "/items?id=7", Headers = [("x-as-remove", "1"), ("X-As-Remove", "2"), ("x-other", "kept")] });

        Assert.Equal(FilterOutcome.Continue, x.Final);
        Assert.Empty(x.Stream.RequestHeaders.GetValues("x-as-remove"));
        Assert.Equal(["PUT /items?id=7"], x.Stream.RequestHeaders.GetValues("x-as-request"));
        Assert.Equal(["kept"], x.Stream.RequestHeaders.GetValues("x-other"));
        Assert.Equal(["blue"], x.Stream.ResponseHeaders.GetValues("x-as-config"));
        var lines = h.Logs.Filter("as_headers").Select(l => l.Text).ToList();
        Assert.Contains("as_headers: request PUT /items?id=7", lines);
        Assert.Contains($"as_headers: on_log {x.Context.ContextId}", lines);
    }

    [Fact]
    public async Task Empty_configuration_reports_none()
    {
        using var h = new RealFilterHost();
        var p = h.Start(As, "", AsRoot);
        var x = await h.SendAsync(p, RequestSpec.Get());
        Assert.Equal(["none"], x.Stream.ResponseHeaders.GetValues("x-as-config"));
    }

    [Theory]
    [InlineData("418", 418)]
    [InlineData("599", 599)]
    [InlineData("abc", 403)]
    [InlineData("700", 403)]
    public async Task A_local_response_is_sent_with_the_requested_or_default_status(string requested, int status)
    {
        using var h = new RealFilterHost();
        var p = h.Start(As, "cfg", AsRoot);

        var x = await h.SendAsync(p, RequestSpec.Get("/", ("x-as-local-response", requested)));

        Assert.Equal(FilterOutcomeKind.LocalResponse, x.OutcomeOf("request_headers").Kind);
        Assert.Equal(status, x.Local!.StatusCode);
        Assert.Equal("as_headers local response\n", Encoding.UTF8.GetString(x.Local.Body.Span));
        Assert.Equal("as_headers_local", x.Local.Details);
        Assert.Null(x.Local.GrpcStatus);
        Assert.Equal([KeyValuePair.Create("x-as-local", "yes")], x.Local.Headers);
        Assert.Null(x.RequestHeader("x-as-request")); // no other request edits
        Assert.Equal(["cfg"], x.Stream.ResponseHeaders.GetValues("x-as-config")); // response phase ran on the local response
    }

    [Fact]
    public void The_configuration_fail_is_rejected_with_the_filters_reason()
    {
        using var h = new RealFilterHost();
        var result = h.Validate(As, "fail", AsRoot);
        Assert.False(result.Success);
        Assert.Equal("on_configure", result.Stage);
        Assert.Contains("as_headers: configuration 'fail' rejected", result.Error);
    }

    [Fact]
    public async Task Several_vms_serve_many_requests_each()
    {
        // Empty configuration on purpose: with a non-empty one the filter (AS SDK 0.1.8 reference counting)
        // aborts in the second on_response_headers of a VM — a guest bug reported to the filter author, not a
        // host behaviour (the host only reads guest memory in proxy_add_header_map_value).
        using var h = new RealFilterHost();
        var p = h.Start(As, "", AsRoot with { PoolSize = 2 });
        for (int i = 0; i < 6; i++)
        {
            var x = await h.SendAsync(p, RequestSpec.Get($"/{i}"));
            Assert.All(x.Outcomes, o => Assert.Equal(FilterOutcome.Continue, o.Outcome));
            Assert.Equal([$"GET /{i}"], x.Stream.RequestHeaders.GetValues("x-as-request"));
            Assert.Equal(["none"], x.Stream.ResponseHeaders.GetValues("x-as-config"));
        }
        Assert.Equal(2, RealFilterHost.VmsCreated(p));
    }
}
