using ProxyWasm.Http;

namespace ProxyWasm.Tests.RealFilters;

/// <summary><c>filters/test/phases.wasm</c>: properties, header edits, bad arguments, stream control (README "Recipes").</summary>
public sealed class PhasesHostcallTests
{
    private const string Phases = "filters/test/phases.wasm";

    [Fact]
    public async Task Properties_are_answered_in_http_contexts_and_unknown_ones_are_not_found()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Phases, """
            {"request_headers":[{"action":"get_property","name":"plugin_root_id"},{"action":"get_property","name":"plugin_name"},
              {"action":"get_property","name":"plugin_vm_id"},{"action":"get_property","name":"request.path"},
              {"action":"get_property","name":"request.method"},{"action":"get_property","name":"no.such.property"}],
             "response_headers":{"action":"get_property","name":"response.code"}}
            """, new PluginOptions { Name = "props", RootId = "root-a", VmId = "vm-a" });

        var x = await h.SendAsync(p, new RequestSpec { Method = "DELETE", Path = "/p?q=1" });

        Assert.Equal("root-a", x.ResponseHeader("x-property-plugin_root_id"));
        Assert.Equal("props", x.ResponseHeader("x-property-plugin_name"));
        Assert.Equal("vm-a", x.ResponseHeader("x-property-plugin_vm_id"));
        Assert.Equal("/p?q=1", x.ResponseHeader("x-property-request.path"));
        Assert.Equal("DELETE", x.ResponseHeader("x-property-request.method"));
        Assert.Equal("!status=1", x.ResponseHeader("x-property-no.such.property"));
        Assert.Equal("hex:c800000000000000", x.ResponseHeader("x-property-response.code")); // Envoy int64 LE
    }

    [Fact]
    public void Plugin_properties_are_answered_in_root_contexts()
    {
        using var h = new RealFilterHost();
        h.Start(Phases, """{"configure":[{"action":"get_property","name":"plugin_name"},{"action":"get_property","name":"request.path"}]}""", new PluginOptions { Name = "rootprops" });
        var lines = h.Logs.Messages("rootprops", "property:");
        Assert.Contains("property:plugin_name=rootprops", lines);
        Assert.Contains("property:request.path=!status=1", lines); // no request in a root context
    }

    [Fact]
    public async Task Bad_map_and_buffer_types_are_bad_arguments()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Phases, """{"request_headers":{"action":"get_header","map":100,"name":"a"},"request_body":{"action":"get_body","buffer":100}}""");
        var x = await h.SendAsync(p, new RequestSpec { Method = "POST", RequestBody = ["b"] });
        Assert.Equal(FilterOutcome.Continue, x.Final);
        Assert.Equal("!status=2", x.ResponseHeader("x-header-a"));
        Assert.Contains("body:!status=2", h.Logs.Messages("phases", "body:"));
    }

    [Fact]
    public async Task Header_edits_per_phase_including_the_status_pseudo_header()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Phases, """
            {"request_headers":[{"action":"set_header","name":"x-set","value":"1"},{"action":"add_header","name":"x-set","value":"2"},
               {"action":"remove_header","name":"x-drop"},{"action":"add_header","map":"response","name":"x-early","value":"yes"},
               {"action":"get_headers"}],
             "response_headers":{"action":"set_header","name":":status","value":"201"}}
            """);

        var x = await h.SendAsync(p, RequestSpec.Get("/h", ("x-drop", "1"), ("x-keep", "k")));

        Assert.Equal(["1", "2"], x.Stream.RequestHeaders.GetValues("x-set"));
        Assert.Empty(x.Stream.RequestHeaders.GetValues("x-drop"));
        Assert.Equal("yes", x.ResponseHeader("x-early")); // response headers edited from a request phase
        Assert.Equal("201", x.ResponseHeader(":status"));
        Assert.Equal(
            ["headers::method=GET, :path=/h, :authority=localhost, :scheme=http, x-keep=k, x-set=1, x-set=2"],
            h.Logs.Messages("phases", "headers:"));
        Assert.All(h.Logs.Messages("phases", "result:"), r => Assert.EndsWith("=0", r));
    }

    [Fact]
    public async Task Close_stream_ends_the_request_with_the_closed_outcome()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Phases, """{"request_headers":"close_stream"}""");
        var x = await h.SendAsync(p, RequestSpec.Get());
        Assert.Equal(FilterOutcomeKind.Closed, x.OutcomeOf("request_headers").Kind);
        Assert.Contains("result:close_stream=0", h.Logs.Messages("phases", "result:"));
    }

    [Fact]
    public async Task Request_body_replacement_and_append_reach_the_upstream()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Phases, """{"request_body":["buffer",{"action":"set_body","body":"!","start":-1,"size":0}]}""");
        var x = await h.SendAsync(p, new RequestSpec { Method = "POST", RequestBody = ["ab", "c"] });
        Assert.Equal("abc!", x.ForwardedRequestBody);
    }
}
