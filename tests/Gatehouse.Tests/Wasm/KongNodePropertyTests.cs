using Gatehouse.Tests.Infrastructure;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary><c>kong.node.id</c> and <c>kong.configuration.&lt;key&gt;</c> (Kong §7.2) read by the Rust <c>tests</c>
/// filter on the full gateway (SQLite, Admin API for the node id).</summary>
public sealed class KongNodePropertyTests : IAsyncLifetime
{
    private EchoUpstream _upstream = null!;
    private WasmGateway _gw = null!;

    public async Task InitializeAsync()
    {
        _upstream = await EchoUpstream.StartAsync();
        _gw = await WasmGateway.StartAsync(dbless: false, filtersPath: WasmPaths.KongTests, configure: o => o with
        {
            Raw = new Dictionary<string, string> { ["log_level"] = "error", ["pg_password"] = "hunter2", ["admin_ssl_cert_key"] = "k" },
        });
        await _gw.ServiceAndRouteAsync("svc", _upstream.Port);
        var (status, body) = await _gw.PostAsync("/routes/svc-route/filter-chains", """{"filters":[{"name":"tests"}]}""");
        Assert.True(status == 201, body?.ToJsonString());
    }

    public async Task DisposeAsync()
    {
        await _gw.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private async Task<(int Status, string Body)> Property(string name)
    {
        var request = ProxyRequests.Get("/svc");
        request.Headers.Add("X-PW-Test", "get_kong_property");
        request.Headers.Add("X-PW-Input", name);
        using var response = await _gw.Proxy.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Node_id_is_the_id_GET_root_reports()
    {
        var (_, root) = await _gw.GetAsync("/");
        Assert.Equal((200, root!["node_id"]!.GetValue<string>()), await Property("node.id"));
    }

    [Fact]
    public async Task Version_is_the_Kong_release_GET_root_reports()
    {
        var (_, root) = await _gw.GetAsync("/");
        Assert.Equal((200, root!["version"]!.GetValue<string>()), await Property("version"));
        Assert.Equal((200, GatehouseVersion.Kong), await Property("version"));
    }

    [Fact]
    public async Task Memory_stats_is_Kongs_json_shape_with_this_process()
    {
        var (status, body) = await Property("node.memory_stats");
        Assert.Equal(200, status);
        var stats = System.Text.Json.Nodes.JsonNode.Parse(body)!.AsObject();
        var vm = Assert.Single(stats["workers_lua_vms"]!.AsArray())!;
        Assert.Equal(Environment.ProcessId, vm["pid"]!.GetValue<int>()); // the gateway runs in the test process
        Assert.True(vm["http_allocated_gc"]!.GetValue<long>() > 0);
        Assert.Empty(stats["lua_shared_dicts"]!.AsObject());
    }

    [Theory]
    [InlineData("configuration.log_level", 200, "error")]
    [InlineData("configuration.database", 200, "sqlite")]
    [InlineData("configuration.wasm", 200, "true")]
    [InlineData("configuration.role", 200, "traditional")] // Kong's 04-proxy-wasm "read kong.configuration"
    [InlineData("configuration.pg_password", 404, "")]
    [InlineData("configuration.admin_ssl_cert_key", 404, "")]
    [InlineData("configuration.nope", 404, "")]
    public async Task Configuration_keys_are_readable_except_secrets(string name, int status, string value) =>
        Assert.Equal((status, value), await Property(name));
}
