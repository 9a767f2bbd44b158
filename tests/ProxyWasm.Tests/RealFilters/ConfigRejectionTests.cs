using ProxyWasm.Http;

namespace ProxyWasm.Tests.RealFilters;

/// <summary>
/// Configurations that violate a filter's own documented rules make <c>proxy_on_configure</c> return false: the
/// host reports a validation failure (what the gateway turns into an Admin API 400) and refuses to start the plugin.
/// </summary>
public sealed class ConfigRejectionTests
{
    [Theory]
    [InlineData("", "configuration is empty")]
    [InlineData("nope", "invalid JSON")]
    [InlineData("[]", "configuration must be a JSON object")]
    [InlineData("{}", "field 'name' (non-empty string) is required")]
    [InlineData("""{"name":""}""", "field 'name' (non-empty string) is required")]
    [InlineData("""{"name":1}""", "field 'name' (non-empty string) is required")]
    [InlineData("""{"name":"x","status":"200"}""", "field 'status' must be a number")]
    public void Config_check_rejects_with_its_reason(string config, string reason)
    {
        using var h = new RealFilterHost();
        var result = h.Validate("filters/test/config-check.wasm", config);
        Assert.False(result.Success);
        Assert.Equal("on_configure", result.Stage);
        Assert.Contains("config-check: rejected: " + reason, result.Error);
        Assert.Equal("on_configure", h.StartRejected("filters/test/config-check.wasm", config).Stage);
    }

    [Theory]
    [InlineData("""{"name":"x"}""")]
    [InlineData("""{"name":"x","status":200}""")]
    public async Task Config_check_accepts_valid_configurations_and_reports_the_name(string config)
    {
        using var h = new RealFilterHost();
        Assert.True(h.Validate("filters/test/config-check.wasm", config).Success);
        var p = h.Start("filters/test/config-check.wasm", config);
        Assert.Contains("config-check: accepted name=x", h.Logs.Messages("config-check", "config-check:"));
        var x = await h.SendAsync(p, RequestSpec.Get());
        Assert.Equal("x", x.ResponseHeader("x-config-check"));
    }

    [Theory]
    [InlineData("filters/examples/add-headers.wasm", """{"request":{"add":{"x-a":1}}}""")]
    [InlineData("filters/examples/add-headers.wasm", """{"response":{"remove":"server"}}""")]
    [InlineData("filters/examples/add-headers.wasm", "[]")]
    [InlineData("filters/examples/add-headers.wasm", "not json")]
    [InlineData("filters/examples/body-rewrite.wasm", "{}")]
    [InlineData("filters/examples/body-rewrite.wasm", """{"find":""}""")]
    [InlineData("filters/examples/body-rewrite.wasm", """{"replace":"only"}""")]
    [InlineData("filters/examples/require-header.wasm", "")]
    [InlineData("filters/examples/require-header.wasm", "{}")]
    [InlineData("filters/examples/require-header.wasm", """{"header":""}""")]
    [InlineData("filters/examples/require-header.wasm", """{"header":"x","status":99}""")]
    [InlineData("filters/examples/require-header.wasm", """{"header":"x","status":600}""")]
    [InlineData("filters/examples/require-header.wasm", """{"header":"x","headers":{"a":1}}""")]
    [InlineData("filters/examples/require-header.wasm", """{"header":"x","body":7}""")]
    [InlineData("filters/examples/request-counter.wasm", "nope")]
    [InlineData("filters/examples/request-counter.wasm", "[1]")]
    [InlineData("filters/rust/headers/rust_headers.wasm", """{"nope":1}""")]
    [InlineData("filters/rust/headers/rust_headers.wasm", """{"request":{"add":{"a":1}}}""")]
    [InlineData("filters/rust/headers/rust_headers.wasm", "[]")]
    [InlineData("filters/rust/headers/rust_headers.wasm", """{"local_response":{"status":200}}""")]
    [InlineData("filters/rust/headers/rust_headers.wasm", """{"local_response":{"path":"/x","status":1000}}""")]
    [InlineData("filters/rust/kong-tests/response_transformer.wasm", "")]
    [InlineData("filters/rust/kong-tests/response_transformer.wasm", "oops!")]
    [InlineData("filters/rust/kong-tests/response_transformer.wasm", """{"add":{"headers":1234}}""")]
    [InlineData("filters/rust/kong-tests/response_transformer.wasm", """{"add":{}}""")]
    [InlineData("filters/rust/kong-tests/response_transformer.wasm", """{"add":{"headers":["novalue"]}}""")]
    [InlineData("filters/rust/kong-tests/response_transformer.wasm", """{"add":null}""")]
    [InlineData("filters/test/phases.wasm", "not json")]
    [InlineData("filters/test/phases.wasm", "[1]")]
    [InlineData("filters/test/phases.wasm", """{"configure":"fail"}""")]
    [InlineData("filters/test/shared.wasm", "{bad")]
    [InlineData("filters/assemblyscript/as_headers.wasm", "fail")]
    public void Filters_reject_configurations_that_break_their_own_rules(string module, string config)
    {
        using var h = new RealFilterHost();
        var result = h.Validate(module, config);
        Assert.False(result.Success, $"{module} accepted {config}");
        Assert.Equal("on_configure", result.Stage);
        Assert.Equal("on_configure", h.StartRejected(module, config).Stage);
    }

    [Theory]
    [InlineData("filters/examples/add-headers.wasm", "add-headers")]
    [InlineData("filters/examples/body-rewrite.wasm", "body-rewrite")]
    [InlineData("filters/examples/require-header.wasm", "require-header")]
    [InlineData("filters/examples/request-counter.wasm", "request-counter")]
    public void Committed_sample_configurations_are_accepted(string module, string name)
    {
        using var h = new RealFilterHost();
        string config = File.ReadAllText(RealFilterHost.FilterPath($"filters/examples/{name}.config.json"));
        var result = h.Validate(module, config);
        Assert.True(result.Success, result.Error);
    }

    [Fact]
    public void Vm_start_returning_false_rejects_at_vm_start()
    {
        using var h = new RealFilterHost();
        var result = h.Validate("filters/test/phases.wasm", """{"vm_start":"fail"}""");
        Assert.False(result.Success);
        Assert.Equal("on_vm_start", result.Stage);
    }

    [Fact]
    public async Task A_rejected_configuration_leaves_a_running_plugin_untouched()
    {
        using var h = new RealFilterHost();
        var running = h.Start("filters/examples/require-header.wasm", """{"header":"x-a"}""");
        Assert.False(h.Validate("filters/examples/require-header.wasm", """{"header":"x-b","status":1}""").Success);
        var x = await h.SendAsync(running, RequestSpec.Get("/", ("x-a", "1")));
        Assert.Equal(FilterOutcome.Continue, x.Final);
    }
}
