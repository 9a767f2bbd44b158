using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary>Kong 3.9 filters as plugins (§2.5, §5.6; 12-filters-as-plugins) on the real gateway with SQLite and
/// real filters: the plugin endpoints accept filter names, validate them as Kong's generated subschema, and the
/// proxy runs them after the scope's filter chain.</summary>
public sealed class FilterPluginTests : IAsyncLifetime
{
    private readonly string _filters = WasmPaths.MixedFilters();
    private EchoUpstream _upstream = null!;
    private WasmGateway _gw = null!;
    private string _serviceId = "";
    private string _routeId = "";

    public async Task InitializeAsync()
    {
        _upstream = await EchoUpstream.StartAsync();
        _gw = await WasmGateway.StartAsync(dbless: false, filtersPath: _filters);
        (_serviceId, _routeId) = await _gw.ServiceAndRouteAsync("svc", _upstream.Port);
    }

    public async Task DisposeAsync()
    {
        await _gw.DisposeAsync();
        await _upstream.DisposeAsync();
        Directory.Delete(_filters, true);
    }

    private static string Append(string header, string value) => $$$"""{"append":{"headers":["{{{header}}}:{{{value}}}"]}}""";

    private async Task<JsonNode> Create(string json)
    {
        var (status, body) = await _gw.PostAsync("/plugins", json);
        Assert.True(status == 201, body?.ToJsonString());
        return body!;
    }

    private async Task<string[]> Values(string path, string header)
    {
        using var response = await _gw.Proxy.SendAsync(ProxyRequests.Get(path));
        Assert.Equal(200, (int)response.StatusCode);
        return response.Headers.TryGetValues(header, out var v) ? [.. v] : [];
    }

    [Fact]
    public async Task Creates_a_plugin_instance_from_a_filter_and_the_proxy_runs_it()
    {
        var plugin = await Create($$$"""{"name":"response_transformer","route":{"id":"{{{_routeId}}}"},"config":{{{Quoted(Append("X-Wasm-Filter-Plugin", "yes"))}}}}""");
        Assert.Equal("response_transformer", plugin["name"]!.GetValue<string>());
        Assert.Equal(_routeId, plugin["route"]!["id"]!.GetValue<string>());
        Assert.Null(plugin["consumer"]);
        Assert.Null(plugin["service"]);
        Assert.Equal("""["grpc","grpcs","http","https"]""", plugin["protocols"]!.ToJsonString());
        Assert.Equal(JsonValueKind.String, plugin["config"]!.GetValueKind());
        Assert.Equal(["yes"], await Values("/svc", "X-Wasm-Filter-Plugin"));
    }

    [Fact]
    public async Task Validates_foreign_references()
    {
        foreach (var field in new[] { "route", "service" })
        {
            var id = Guid.NewGuid().ToString();
            var (status, body) = await _gw.PostAsync("/plugins", $$$"""{"name":"response_transformer","{{{field}}}":{"id":"{{{id}}}"},"config":"{}"}""");
            Assert.Equal(400, status);
            Assert.Equal("foreign key violation", body!["name"]!.GetValue<string>());
            Assert.Equal($$$"""{"{{{field}}}":{"id":"{{{id}}}"}}""", body["fields"]!.ToJsonString());
        }
    }

    [Theory]
    [InlineData("""{"name":"rt_with_validation","route":{"id":"RT"},"config":{}}""", """{"config":"property add is required"}""")]
    [InlineData("""{"name":"response_transformer","route":{"id":"RT"},"config":{"a":1}}""", """{"config":"wrong type: expected one of string, null, got object"}""")]
    [InlineData("""{"name":"response_transformer","config":"{}"}""",
        """{"@entity":["at least one of these fields must be non-empty: 'service', 'route'"]}""")]
    [InlineData("""{"name":"response_transformer","route":{"id":"RT"},"service":{"id":"SVC"},"config":"{}"}""",
        """{"@entity":["only one or none of these fields must be set: 'service', 'route'"]}""")]
    [InlineData("""{"name":"response_transformer","route":{"id":"RT"},"protocols":["http","tcp"],"config":"{}"}""",
        """{"protocols":[null,"expected one of: grpc, grpcs, http, https"]}""")]
    public async Task Config_and_scope_are_validated_as_Kongs_generated_subschema(string json, string fields)
    {
        var (status, body) = await _gw.PostAsync("/plugins", json.Replace("RT", _routeId).Replace("SVC", _serviceId));
        Assert.True(status == 400, body?.ToJsonString());
        Assert.Equal("schema violation", body!["name"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(fields), body["fields"]), body["fields"]!.ToJsonString());
    }

    [Fact]
    public async Task A_consumer_is_refused_and_the_filter_itself_checks_its_config()
    {
        var (_, consumer) = await _gw.PostAsync("/consumers", """{"username":"alice"}""");
        var (status, body) = await _gw.PostAsync("/plugins",
            $$$"""{"name":"response_transformer","route":{"id":"{{{_routeId}}}"},"consumer":{"id":"{{{consumer!["id"]}}}"},"config":"{}"}""");
        Assert.Equal(400, status);
        Assert.Equal("value must be null", body!["fields"]!["consumer"]!.GetValue<string>());

        (status, body) = await _gw.PostAsync("/plugins", $$$"""{"name":"response_transformer","route":{"id":"{{{_routeId}}}"},"config":"{\"add\":{\"headers\":[\"nocolon\"]}}"}""");
        Assert.Equal(400, status);
        Assert.Contains("Invalid <header>:<name>", body!["fields"]!["config"]!.GetValue<string>());
    }

    [Fact]
    public async Task Get_patch_and_delete_a_filter_plugin_instance_and_list_it_with_Lua_plugins()
    {
        var filter = await Create($$$"""{"name":"response_transformer","route":{"id":"{{{_routeId}}}"},"config":{{{Quoted(Append("X-Filter", "one"))}}}}""");
        await Create($$$$"""{"name":"response-transformer","route":{"id":"{{{{_routeId}}}}"},"config":{"append":{"headers":["X-Lua:yes"]}}}""");
        var id = filter["id"]!.GetValue<string>();

        var (gs, got) = await _gw.GetAsync($"/plugins/{id}");
        Assert.Equal(200, gs);
        Assert.Equal(filter.ToJsonString(), got!.ToJsonString());
        var (_, list) = await _gw.GetAsync("/plugins");
        Assert.Equal(["response-transformer", "response_transformer"],
            list!["data"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Equal(["one"], await Values("/svc", "X-Filter"));

        var (ps, patched) = await _gw.SendAsync(HttpMethod.Patch, $"/plugins/{id}", $$$"""{"config":{{{Quoted(Append("X-Filter", "two"))}}}}""");
        Assert.True(ps == 200, patched?.ToJsonString());
        Assert.Equal(["two"], await Values("/svc", "X-Filter"));
        Assert.Equal(["yes"], await Values("/svc", "X-Lua"));

        (ps, patched) = await _gw.SendAsync(HttpMethod.Patch, $"/plugins/{id}", """{"enabled":false}""");
        Assert.Equal(200, ps);
        Assert.Empty(await Values("/svc", "X-Filter"));

        Assert.Equal(204, (await _gw.SendAsync(HttpMethod.Delete, $"/plugins/{id}")).Status);
        Assert.Equal(404, (await _gw.GetAsync($"/plugins/{id}")).Status);
        Assert.Empty(await Values("/svc", "X-Filter"));
        Assert.Equal(["yes"], await Values("/svc", "X-Lua"));
    }

    [Fact]
    public async Task Filter_plugins_run_after_Lua_plugins_and_after_the_filter_chain_and_win_on_replace()
    {
        await Create($$$$"""{"name":"response-transformer","route":{"id":"{{{{_routeId}}}}"},"config":{"append":{"headers":["X-Append-Me:lua"]},"add":{"headers":["X-Replace-Me:lua"]}}}""");
        var (cs, chain) = await _gw.PostAsync("/routes/svc-route/filter-chains",
            $$$"""{"filters":[{"name":"response_transformer","config":{{{Quoted("""{"append":{"headers":["X-Append-Me:filter-chain"]},"replace":{"headers":["X-Replace-Me:filter-chain"]}}""")}}}}]}""");
        Assert.True(cs == 201, chain?.ToJsonString());
        await Create($$$"""{"name":"response_transformer","route":{"id":"{{{_routeId}}}"},"config":{{{Quoted("""{"append":{"headers":["X-Append-Me:plugin"]},"replace":{"headers":["X-Replace-Me:plugin"]}}""")}}}}""");

        Assert.Equal(["lua", "filter-chain", "plugin"], await Values("/svc", "X-Append-Me"));
        Assert.Equal(["plugin"], await Values("/svc", "X-Replace-Me"));
    }

    [Fact]
    public async Task Several_filter_plugins_run_sorted_by_name_whatever_the_insert_order()
    {
        await Create($$$$"""{"name":"response_transformer_with_schema","route":{"id":"{{{{_routeId}}}}"},"config":{"replace":{"headers":["X-Name:second"]},"append":{"headers":["X-Order:second"]}}}""");
        await Create($$$"""{"name":"response_transformer","route":{"id":"{{{_routeId}}}"},"config":{{{Quoted("""{"add":{"headers":["X-Name:first"]},"append":{"headers":["X-Order:first"]}}""")}}}}""");
        Assert.Equal(["first", "second"], await Values("/svc", "X-Order"));
        Assert.Equal(["second"], await Values("/svc", "X-Name"));
    }

    [Fact]
    public async Task A_service_filter_plugin_runs_on_its_routes_after_the_service_chain_and_before_the_route_chain()
    {
        await Create($$$"""{"name":"response_transformer","service":{"id":"{{{_serviceId}}}"},"config":{{{Quoted(Append("X-Order", "service-plugin"))}}}}""");
        Assert.Equal(["service-plugin"], await Values("/svc", "X-Order"));
        await _gw.PostAsync("/services/svc/filter-chains",
            $$$"""{"filters":[{"name":"response_transformer","config":{{{Quoted(Append("X-Order", "service-chain"))}}}}]}""");
        await _gw.PostAsync("/routes/svc-route/filter-chains",
            $$$"""{"filters":[{"name":"response_transformer","config":{{{Quoted(Append("X-Order", "route-chain"))}}}}]}""");
        Assert.Equal(["service-chain", "service-plugin", "route-chain"], await Values("/svc", "X-Order"));
    }

    [Fact]
    public async Task Root_lists_filters_as_available_plugins_and_plugins_enabled_includes_them()
    {
        var (_, root) = await _gw.GetAsync("/");
        var available = root!["plugins"]!["available_on_server"]!;
        Assert.Equal("""{"version":"0.1.0","priority":0}""", available["rt_with_validation"]!.ToJsonString());
        Assert.NotNull(available["response-transformer"]);
        await Create($$$"""{"name":"response_transformer","route":{"id":"{{{_routeId}}}"},"config":"{}"}""");
        (_, root) = await _gw.GetAsync("/");
        Assert.Contains("response_transformer", root!["plugins"]!["enabled_in_cluster"]!.AsArray().Select(n => n!.GetValue<string>()));
        var (_, enabled) = await _gw.GetAsync("/plugins/enabled");
        var names = enabled!["enabled_plugins"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        Assert.Contains("add-headers", names);
        Assert.Contains("key-auth", names);
    }

    [Fact]
    public async Task Schemas_the_generated_filter_subschema_and_the_plugins_entity_keeps_no_entity_checks()
    {
        var (status, schema) = await _gw.GetAsync("/schemas/plugins/rt_with_validation");
        Assert.Equal(200, status);
        Assert.Equal("""[{"mutually_exclusive":["service","route"]},{"at_least_one_of":["service","route"]}]""", schema!["entity_checks"]!.ToJsonString());
        Assert.Equal(["name", "consumer", "protocols", "config"],
            schema["fields"]!.AsArray().Select(f => f!.AsObject().Single().Key));
        Assert.Equal("json", schema["fields"]![3]!["config"]!["type"]!.GetValue<string>());
        Assert.Equal(404, (await _gw.GetAsync("/schemas/plugins/nope")).Status);
        var (_, plugins) = await _gw.GetAsync("/schemas/plugins");
        Assert.Equal("[]", plugins!["entity_checks"]!.ToJsonString());
    }

    private static string Quoted(string s) => System.Text.Json.JsonSerializer.Serialize(s);
}
