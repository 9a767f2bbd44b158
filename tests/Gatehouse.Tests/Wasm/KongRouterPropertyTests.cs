using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary>Kong §7.1/§7.2 properties added on top of ids and names: <c>kong.router.route/service</c> (entity JSON),
/// <c>kong.service.target</c> and <c>kong.service.request.scheme</c> (setters), <c>kong.response.source</c> and
/// the <c>ngx.*</c> variables, read and written by real filters (Rust <c>tests</c>, C <c>phases</c>) on the full
/// gateway (SQLite, Admin API).</summary>
public sealed class KongRouterPropertyTests : IAsyncLifetime
{
    private EchoUpstream _upstream = null!;
    private EchoUpstream _other = null!;
    private WasmGateway _gw = null!;
    private string _filters = null!;
    private string _serviceId = null!;
    private string _routeId = null!;

    public async Task InitializeAsync()
    {
        _upstream = await EchoUpstream.StartAsync();
        _other = await EchoUpstream.StartAsync();
        _filters = WasmPaths.CopyFilters(WasmPaths.KongTests, "tests");
        File.Copy(Path.Combine(WasmPaths.Repo, "filters", "test", "phases.wasm"), Path.Combine(_filters, "phases.wasm"));
        _gw = await WasmGateway.StartAsync(dbless: false, filtersPath: _filters);
        (_serviceId, _routeId) = await _gw.ServiceAndRouteAsync("svc", _upstream.Port);
        var (status, body) = await _gw.PostAsync("/routes/svc-route/filter-chains", """{"filters":[{"name":"tests"}]}""");
        Assert.True(status == 201, body?.ToJsonString());
        await _gw.ServiceAndRouteAsync("ngx", _upstream.Port);
        var reads = string.Join(",", new[] { "ngx.request_uri", "ngx.uri", "ngx.args", "ngx.scheme", "ngx.host", "ngx.remote_addr",
            "ngx.request_method", "ngx.http_x_foo", "ngx.upstream_uri", "ngx.nope" }
            .Select(n => $$"""{"action":"get_property","name":"{{n}}"}"""));
        var config = $$"""{"request_headers":[{{reads}}],"response_headers":[{"action":"get_property","name":"kong.response.source"}]}""";
        (status, body) = await _gw.PostAsync("/routes/ngx-route/filter-chains",
            new JsonObject { ["filters"] = new JsonArray(new JsonObject { ["name"] = "phases", ["config"] = config }) }.ToJsonString());
        Assert.True(status == 201, body?.ToJsonString());
    }

    public async Task DisposeAsync()
    {
        await _gw.DisposeAsync();
        await _upstream.DisposeAsync();
        await _other.DisposeAsync();
        Directory.Delete(_filters, recursive: true);
    }

    private async Task<HttpResponseMessage> Send(string path, params (string Name, string Value)[] headers)
    {
        var request = ProxyRequests.Get(path);
        foreach (var (name, value) in headers) request.Headers.Add(name, value);
        return await _gw.Proxy.SendAsync(request);
    }

    private async Task<JsonNode> ReadJsonProperty(string name)
    {
        using var response = await Send("/svc", ("X-PW-Test", "get_kong_property"), ("X-PW-Input", name));
        Assert.Equal(200, (int)response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    [Fact]
    public async Task Router_route_is_the_matched_route_entity_as_JSON()
    {
        var route = await ReadJsonProperty("router.route");
        var (_, admin) = await _gw.GetAsync("/routes/svc-route");
        foreach (var field in new[] { "id", "name", "paths", "protocols", "strip_path", "preserve_host", "path_handling",
                     "https_redirect_status_code", "regex_priority", "created_at", "updated_at", "service" })
            Assert.True(JsonNode.DeepEquals(admin![field], route[field]), $"{field}: {admin![field]?.ToJsonString()} vs {route[field]?.ToJsonString()}");
        Assert.Equal(_routeId, route["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Router_service_is_the_matched_service_entity_as_JSON()
    {
        var service = await ReadJsonProperty("router.service");
        var (_, admin) = await _gw.GetAsync("/services/svc");
        foreach (var field in new[] { "id", "name", "host", "port", "protocol", "path", "retries", "connect_timeout",
                     "read_timeout", "write_timeout", "enabled", "created_at", "updated_at" })
            Assert.True(JsonNode.DeepEquals(admin![field], service[field]), $"{field}: {admin![field]?.ToJsonString()} vs {service[field]?.ToJsonString()}");
        Assert.Equal(_serviceId, service["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Service_target_sends_this_request_to_another_host_and_port()
    {
        using (var moved = await Send("/svc", ("X-PW-Test", "set_kong_property"), ("X-PW-Input", $"service.target=127.0.0.1:{_other.Port}")))
        {
            Assert.Equal(200, (int)moved.StatusCode);
            Assert.Equal($"127.0.0.1:{_other.Port}", (await moved.EchoAsync()).Header("host"));
        }
        using var next = await Send("/svc");
        Assert.Equal($"127.0.0.1:{_upstream.Port}", (await next.EchoAsync()).Header("host"));
    }

    [Fact]
    public async Task Service_upstream_balances_this_request_over_the_named_upstream()
    {
        var (status, body) = await _gw.PostAsync("/upstreams", """{"name":"moved.internal","host_header":"moved.test"}""");
        Assert.True(status == 201, body?.ToJsonString());
        (status, body) = await _gw.PostAsync("/upstreams/moved.internal/targets", $$"""{"target":"127.0.0.1:{{_other.Port}}"}""");
        Assert.True(status == 201, body?.ToJsonString());
        using (var moved = await Send("/svc", ("X-PW-Test", "set_kong_property"), ("X-PW-Input", "service.upstream=moved.internal")))
        {
            Assert.Equal(200, (int)moved.StatusCode);
            // the upstream's target served, with the upstream's host_header
            Assert.Equal($"moved.test:{_other.Port}", (await moved.EchoAsync()).Header("host"));
        }
        using var next = await Send("/svc");
        Assert.Equal($"127.0.0.1:{_upstream.Port}", (await next.EchoAsync()).Header("host"));
    }

    [Fact]
    public async Task Service_request_scheme_is_the_scheme_this_request_uses_upstream()
    {
        // Kong's "write kong.service.request.scheme" (http: the request goes on as before)
        using (var same = await Send("/svc", ("X-PW-Test", "set_kong_property"), ("X-PW-Input", "service.request.scheme=http")))
        {
            Assert.Equal(200, (int)same.StatusCode);
            Assert.Equal("/", (await same.EchoAsync()).Path);
        }
        // https to a plain-HTTP upstream: the TLS handshake fails, so the write did reach the upstream request
        using (var tls = await Send("/svc", ("X-PW-Test", "set_kong_property"), ("X-PW-Input", "service.request.scheme=https")))
            Assert.Equal(502, (int)tls.StatusCode);
        using var next = await Send("/svc");
        Assert.Equal(200, (int)next.StatusCode);
    }

    [Theory]
    [InlineData("service.target=no-port")]
    [InlineData("service.target=127.0.0.1:99999")]
    [InlineData("service.request.scheme=ftp")]
    [InlineData("service.upstream=some-upstream")]
    public async Task Bad_or_unsupported_service_writes_are_refused_and_the_service_is_used(string input)
    {
        using var response = await Send("/svc", ("X-PW-Test", "set_kong_property"), ("X-PW-Input", input));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal($"127.0.0.1:{_upstream.Port}", (await response.EchoAsync()).Header("host"));
    }

    [Fact]
    public async Task Ngx_variables_map_onto_the_request_and_response_source_is_service()
    {
        using var response = await Send("/ngx/a%20b?x=1&y=2", ("X-Foo", "bar"));
        Assert.Equal(200, (int)response.StatusCode);
        string Reported(string name) => string.Join(",", response.Headers.GetValues("x-property-" + name));
        Assert.Equal("/ngx/a%20b?x=1&y=2", Reported("ngx.request_uri"));
        Assert.Equal("/ngx/a b", Reported("ngx.uri"));
        Assert.Equal("x=1&y=2", Reported("ngx.args"));
        Assert.Equal("http", Reported("ngx.scheme"));
        Assert.Equal("127.0.0.1", Reported("ngx.host"));
        Assert.Equal("127.0.0.1", Reported("ngx.remote_addr"));
        Assert.Equal("GET", Reported("ngx.request_method"));
        Assert.Equal("bar", Reported("ngx.http_x_foo"));
        Assert.Equal("/a%20b?x=1&y=2", Reported("ngx.upstream_uri"));
        Assert.StartsWith("!status=", Reported("ngx.nope"));
        Assert.Equal("service", Reported("kong.response.source"));
    }
}
