using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Model;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Wasm;

namespace Gatehouse.Tests.Reliability;

/// <summary>
/// Issue #10 item 9: a Proxy-Wasm filter that replaces <c>:path</c> in on_request_headers changes the path and the
/// query the upstream receives, as ngx_wasm_module does (it sets nginx's <c>$uri</c> and <c>$args</c>; its tests
/// proxy <c>$uri$is_args$args</c>). The real example filter add-headers (C, committed .wasm) sets the pseudo-header
/// from its configuration; the raw upstream shows the request line byte for byte.
/// </summary>
public sealed class FilterPathRewriteTests : IAsyncLifetime
{
    private RawRecordingUpstream _upstream = null!;
    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = RawRecordingUpstream.Start();
        _gateway = await GatewayFixture.StartAsync(configure: o => o with { Wasm = true, WasmFiltersPath = WasmPaths.Examples });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    /// <summary>Publishes one route (strip_path on <paramref name="routePath"/>, service path <paramref name="servicePath"/>)
    /// whose chain runs add-headers with <c>:path</c> set to <paramref name="newPath"/>; returns what the upstream got
    /// for <paramref name="target"/>.</summary>
    private async Task<string> UpstreamTargetAsync(string newPath, string target, string routePath = "/", string? servicePath = null)
    {
        var service = TestConfig.Service(_upstream.Host, _upstream.Port, servicePath);
        var route = TestConfig.Route(service, "r", paths: [routePath]);
        var config = new JsonObject { ["request"] = new JsonObject { ["add"] = new JsonObject { [":path"] = newPath } } };
        _gateway.Publish(TestConfig.Of([service], [route]) with
        {
            FilterChains = [new FilterChainModel { Id = Guid.NewGuid(), RouteId = route.Id, Filters = [new("add-headers", true, config.ToJsonString())] }],
        });
        var response = await RawHttpClient.SendAsync(_gateway.ProxyUri.Port, RawHttpClient.Request("GET", Encoding.ASCII.GetBytes(target), "gw.test"));
        Assert.True(response.Status == 200, response.Head + " " + response.BodyText);
        return Encoding.ASCII.GetString(response.Body);
    }

    [Fact]
    public async Task Path_and_query_written_by_the_filter_reach_the_upstream() =>
        Assert.Equal("/rewritten/x?a=1", await UpstreamTargetAsync("/rewritten/x?a=1", "/orig?b=2"));

    [Fact]
    public async Task A_path_without_query_keeps_the_clients_query() =>
        Assert.Equal("/rewritten?b=2", await UpstreamTargetAsync("/rewritten", "/orig?b=2"));

    [Fact]
    public async Task A_bare_question_mark_drops_the_query() =>
        Assert.Equal("/rewritten", await UpstreamTargetAsync("/rewritten?", "/orig?b=2"));

    [Fact]
    public async Task The_written_path_replaces_strip_path_and_the_service_path() =>
        Assert.Equal("/elsewhere", await UpstreamTargetAsync("/elsewhere", "/api/x", routePath: "/api", servicePath: "/base"));

    [Fact]
    public async Task Encoded_bytes_in_the_written_path_are_sent_once_and_unsafe_ones_escaped() =>
        Assert.Equal("/a%2Fb/caf%C3%A9%20x?q=%2F", await UpstreamTargetAsync("/a%2Fb/café x?q=%2F", "/orig"));
}
