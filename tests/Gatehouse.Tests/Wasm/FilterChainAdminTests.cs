using System.Text.Json.Nodes;
using Gatehouse.Tests.Admin;
using Gatehouse.Tests.Infrastructure;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary>The filter_chains Admin API (Kong §1.3, §1.4, §2) on the real gateway with SQLite (and PostgreSQL: the subclass below) and real filters.</summary>
public class FilterChainAdminTests : IAsyncLifetime
{
    private protected virtual AdminStore Store => AdminStore.Sqlite;

    private readonly string _filters = WasmPaths.MixedFilters();
    private EchoUpstream _upstream = null!;
    private WasmGateway _gw = null!;
    private string _serviceId = "";
    private string _routeId = "";

    public async Task InitializeAsync()
    {
        _upstream = await EchoUpstream.StartAsync();
        _gw = await WasmGateway.StartAsync(dbless: false, filtersPath: _filters, configure: await AdminStores.ConfigureAsync(Store));
        (_serviceId, _routeId) = await _gw.ServiceAndRouteAsync("svc", _upstream.Port);
    }

    public async Task DisposeAsync()
    {
        await _gw.DisposeAsync();
        await _upstream.DisposeAsync();
        Directory.Delete(_filters, true);
    }

    [Fact]
    public async Task Create_read_patch_delete_and_the_proxy_follows()
    {
        var (status, chain) = await _gw.PostAsync("/services/svc/filter-chains",
            """{"name":"fc1","filters":[{"name":"add-headers","config":{"request":{"add":{"x-chain":"one"}}}}]}""");
        Assert.Equal(201, status);
        Assert.Equal(_serviceId, chain!["service"]!["id"]!.GetValue<string>());
        Assert.Null(chain["route"]);
        Assert.True(chain["enabled"]!.GetValue<bool>());
        Assert.Equal("""[{"name":"add-headers","enabled":true,"config":{"request":{"add":{"x-chain":"one"}}}}]""", chain["filters"]!.ToJsonString());
        var echo = await (await _gw.Proxy.SendAsync(ProxyRequests.Get("/svc"))).EchoAsync();
        Assert.Equal("one", echo.Header("x-chain"));

        var (ps, patched) = await _gw.SendAsync(HttpMethod.Patch, "/filter-chains/fc1",
            """{"tags":["foo","bar"],"filters":[{"name":"add-headers","config":{"request":{"add":{"x-chain":"two"}}}}]}""");
        Assert.Equal(200, ps);
        Assert.Equal("""["foo","bar"]""", patched!["tags"]!.ToJsonString());
        echo = await (await _gw.Proxy.SendAsync(ProxyRequests.Get("/svc"))).EchoAsync();
        Assert.Equal("two", echo.Header("x-chain"));

        Assert.Equal(204, (await _gw.SendAsync(HttpMethod.Delete, "/filter-chains/fc1")).Status);
        Assert.Equal(404, (await _gw.GetAsync("/filter-chains/fc1")).Status);
        echo = await (await _gw.Proxy.SendAsync(ProxyRequests.Get("/svc"))).EchoAsync();
        Assert.Null(echo.Header("x-chain"));
    }

    [Theory]
    [InlineData("""{"service":{"id":"SVC"}}""", """{"filters":"required field missing"}""")]
    [InlineData("""{"service":{"id":"SVC"},"filters":[]}""", """{"filters":"length must be at least 1"}""")]
    [InlineData("""{"service":{"id":"SVC"},"route":{"id":"RT"},"filters":[{"name":"config-check","config":"{\"name\":\"a\"}"}]}""",
        """{"@entity":["only one or none of these fields must be set: 'service', 'route'"]}""")]
    [InlineData("""{"filters":[{"name":"config-check","config":"{\"name\":\"a\"}"}]}""",
        """{"@entity":["at least one of these fields must be non-empty: 'service', 'route'"]}""")]
    [InlineData("""{"service":{"id":"SVC"},"filters":[{"name":"add-headers","config":{}},{"name":"nope"},{"name":"add-headers","config":{}},{"name":"nope2"}]}""",
        """{"filters":[null,{"name":"no such filter"},null,{"name":"no such filter"}]}""")]
    [InlineData("""{"service":{"id":"SVC"},"filters":[{}]}""", """{"filters":[{"name":"required field missing"}]}""")]
    [InlineData("""{"service":{"id":"SVC"},"filters":[{"name":"response_transformer","config":{"a":1}}]}""",
        """{"filters":[{"config":"wrong type: expected one of string, null, got object"}]}""")]
    [InlineData("""{"service":{"id":"SVC"},"filters":[{"name":"rt_with_validation","config":{}}]}""",
        """{"filters":[{"config":"property add is required"}]}""")]
    [InlineData("""{"service":{"id":"SVC"},"filters":[{"name":"response_transformer_with_schema"}]}""",
        """{"filters":[{"config":"wrong type: expected object, got null"}]}""")]
    [InlineData("""{"id":"nope","service":{"id":"SVC"},"filters":[{"name":"add-headers","config":{}}]}""", """{"id":"expected a valid UUID"}""")]
    [InlineData("""{"enabled":"yes","service":{"id":"SVC"},"filters":[{"name":"add-headers","config":{}}]}""", """{"enabled":"expected a boolean"}""")]
    [InlineData("""{"service":{"id":"SVC"},"filters":[{"name":"add-headers","bogus":1}]}""", """{"filters":[{"bogus":"unknown field"}]}""")]
    public async Task Schema_violations_have_Kongs_fields(string body, string fields)
    {
        var (status, error) = await _gw.PostAsync("/filter-chains", body.Replace("SVC", _serviceId).Replace("RT", _routeId));
        Assert.Equal(400, status);
        Assert.Equal(2, error!["code"]!.GetValue<int>());
        Assert.Equal("schema violation", error["name"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(fields), error["fields"]), error["fields"]!.ToJsonString());
    }

    [Fact]
    public async Task Filter_rejecting_its_config_is_a_schema_violation_on_config()
    {
        var (status, error) = await _gw.PostAsync("/filter-chains",
            $$"""{"service":{"id":"{{_serviceId}}"},"filters":[{"name":"config-check","config":"{\"name\":\"ok\"}"},{"name":"config-check","config":"{}"}]}""");
        Assert.Equal(400, status);
        var fields = error!["fields"]!["filters"]!.AsArray();
        Assert.Null(fields[0]);
        Assert.Contains("filter rejected its configuration", fields[1]!["config"]!.GetValue<string>());
    }

    [Fact]
    public async Task One_chain_per_service_and_per_route_and_unique_names_give_409()
    {
        Assert.Equal(201, (await _gw.PostAsync("/filter-chains", $$$"""{"name":"a","service":{"id":"{{{_serviceId}}}"},"filters":[{"name":"add-headers","config":{}}]}""")).Status);
        var (s1, e1) = await _gw.PostAsync("/filter-chains", $$$"""{"service":{"id":"{{{_serviceId}}}"},"filters":[{"name":"add-headers","config":{}}]}""");
        Assert.Equal(409, s1);
        Assert.Equal("unique constraint violation", e1!["name"]!.GetValue<string>());
        Assert.Equal("{\"route\":null,\"service\":{\"id\":\"" + _serviceId + "\"}}", e1["fields"]!.ToJsonString());
        Assert.Equal(201, (await _gw.PostAsync($"/routes/{_routeId}/filter-chains", """{"filters":[{"name":"add-headers","config":{}}]}""")).Status);
        var (s2, e2) = await _gw.PostAsync("/filter-chains", $$$"""{"route":{"id":"{{{_routeId}}}"},"filters":[{"name":"add-headers","config":{}}]}""");
        Assert.Equal(409, s2);
        Assert.Equal($$"""{"route":{"id":"{{_routeId}}"},"service":null}""", e2!["fields"]!.ToJsonString());
        var (s3, e3) = await _gw.PostAsync("/filter-chains", $$$"""{"name":"a","route":{"id":"{{{Guid.NewGuid()}}}"},"filters":[{"name":"add-headers","config":{}}]}""");
        Assert.Equal(409, s3);
        Assert.Equal("""{"name":"a"}""", e3!["fields"]!.ToJsonString());
    }

    [Fact]
    public async Task Collections_empty_shape_nested_listing_put_by_name_and_405s()
    {
        var (s0, empty) = await _gw.GetAsync("/filter-chains");
        Assert.Equal(200, s0);
        Assert.Equal("""{"data":[],"next":null}""", empty!.ToJsonString());
        foreach (var method in new[] { HttpMethod.Patch, HttpMethod.Put, HttpMethod.Delete })
            Assert.Equal(405, (await _gw.SendAsync(method, "/filter-chains", "{}")).Status);
        Assert.Equal(405, (await _gw.SendAsync(HttpMethod.Post, "/filter-chains/x", "{}")).Status);
        var (sp, put) = await _gw.SendAsync(HttpMethod.Put, "/filter-chains/by-put",
            $$$"""{"service":{"id":"{{{_serviceId}}}"},"filters":[{"name":"config-check","config":"{\"name\":\"p\"}"}]}""");
        Assert.Equal(200, sp);
        Assert.Equal("by-put", put!["name"]!.GetValue<string>());
        var (sn, nested) = await _gw.GetAsync("/services/svc/filter-chains");
        Assert.Equal(200, sn);
        Assert.Equal(put["id"]!.GetValue<string>(), nested!["data"]![0]!["id"]!.GetValue<string>());
        Assert.Empty((await _gw.GetAsync("/routes/svc-route/filter-chains")).Body!["data"]!.AsArray());
        Assert.Equal(200, (await _gw.GetAsync($"/services/svc/filter-chains/{put["id"]}")).Status);
        Assert.Equal(404, (await _gw.GetAsync($"/routes/svc-route/filter-chains/{put["id"]}")).Status);
    }

    [Fact]
    public async Task Chain_for_a_missing_service_is_a_foreign_key_violation()
    {
        var missing = Guid.NewGuid().ToString();
        var (status, error) = await _gw.PostAsync("/filter-chains",
            $$$"""{"service":{"id":"{{{missing}}}"},"filters":[{"name":"add-headers","config":{}}]}""");
        Assert.Equal(400, status);
        Assert.Equal("foreign key violation", error!["name"]!.GetValue<string>());
        Assert.Equal(missing, error["fields"]!["service"]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Deleting_the_service_cascades_to_its_chain()
    {
        Assert.Equal(201, (await _gw.PostAsync("/services/svc/filter-chains", """{"name":"c","filters":[{"name":"add-headers","config":{}}]}""")).Status);
        Assert.Equal(201, (await _gw.PostAsync("/routes/svc-route/filter-chains", """{"name":"r","filters":[{"name":"add-headers","config":{}}]}""")).Status);
        Assert.Equal(204, (await _gw.SendAsync(HttpMethod.Delete, "/routes/svc-route")).Status);
        Assert.Equal(404, (await _gw.GetAsync("/filter-chains/r")).Status);
        Assert.Equal(204, (await _gw.SendAsync(HttpMethod.Delete, "/services/svc")).Status);
        Assert.Equal(404, (await _gw.GetAsync("/filter-chains/c")).Status);
    }

    [Fact]
    public async Task Route_filters_lists_service_then_route_filters_with_enabled_state()
    {
        await _gw.PostAsync("/services/svc/filter-chains", """{"name":"s","filters":[{"name":"add-headers","enabled":false,"config":{}}]}""");
        await _gw.PostAsync("/routes/svc-route/filter-chains",
            """{"name":"r","filters":[{"name":"config-check","config":"{\"name\":\"x\"}"},{"name":"add-headers","config":{}}]}""");
        var (status, all) = await _gw.GetAsync("/routes/svc-route/filters/all");
        Assert.Equal(200, status);
        var list = all!["filters"]!.AsArray();
        Assert.Equal(["service", "route", "route"], list.Select(f => f!["from"]!.GetValue<string>()));
        Assert.Equal([false, true, true], list.Select(f => f!["enabled"]!.GetValue<bool>()));
        Assert.Equal("s", list[0]!["filter_chain"]!["name"]!.GetValue<string>());
        Assert.Equal(2, (await _gw.GetAsync("/routes/svc-route/filters/enabled")).Body!["filters"]!.AsArray().Count);
        Assert.Equal("add-headers", (await _gw.GetAsync("/routes/svc-route/filters/disabled")).Body!["filters"]![0]!["name"]!.GetValue<string>());
        Assert.Equal(404, (await _gw.GetAsync("/routes/nope/filters/all")).Status);
    }

    [Fact]
    public async Task Filter_schemas_and_filter_listing()
    {
        var (s1, schema) = await _gw.GetAsync("/schemas/filters/rt_with_validation");
        Assert.Equal(200, s1);
        Assert.Equal("http://json-schema.org/draft-04/schema#", schema!["$schema"]!.GetValue<string>());
        Assert.Equal("""["add"]""", schema["required"]!.ToJsonString());
        var (s2, plain) = await _gw.GetAsync("/schemas/filters/config-check");
        Assert.Equal(200, s2);
        Assert.Equal("""{"$schema":"http://json-schema.org/draft-04/schema#","type":["string","null"]}""", plain!.ToJsonString());
        var (s3, missing) = await _gw.GetAsync("/schemas/filters/nope");
        Assert.Equal(404, s3);
        Assert.Equal("Filter 'nope' not found", missing!["message"]!.GetValue<string>());
        var (s4, filters) = await _gw.GetAsync("/filters");
        Assert.Equal(200, s4);
        Assert.Equal(["add-headers", "config-check", "response_transformer", "response_transformer_with_schema", "rt_with_validation"],
            filters!["data"]!.AsArray().Select(f => f!["name"]!.GetValue<string>()));
        Assert.All(filters["data"]!.AsArray(), f => Assert.Equal("loaded", f!["status"]!.GetValue<string>()));
        var (_, root) = await _gw.GetAsync("/");
        Assert.Equal(5, root!["configuration"]!["wasm_modules_parsed"]!.AsArray().Count);
    }
}

/// <summary>Every test of <see cref="FilterChainAdminTests"/> on PostgreSQL.</summary>
public sealed class FilterChainAdminTestsOnPostgres : FilterChainAdminTests
{
    private protected override AdminStore Store => AdminStore.Postgres;
}
