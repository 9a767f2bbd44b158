using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary>
/// Kong 3.9.3's 01-admin-api and 02-db cases, with Kong's fixture filters (<c>tests</c>, no schema, accepts any
/// string; <c>response_transformer</c>, no schema, JSON config) on the real gateway with SQLite: fetched entities
/// compared whole, nested PATCH/DELETE/405s, <c>/routes/:r/filters</c> with every kind of chain, user-chosen id and
/// timestamps, the route foreign key, and configs of each JSON type without a schema.
/// </summary>
public sealed class FilterChainKongAdminCasesTests : IAsyncLifetime
{
    private EchoUpstream _upstream = null!;
    private WasmGateway _gw = null!;

    public async Task InitializeAsync()
    {
        _upstream = await EchoUpstream.StartAsync();
        _gw = await WasmGateway.StartAsync(dbless: false, filtersPath: WasmPaths.KongTests);
    }

    public async Task DisposeAsync()
    {
        await _gw.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private async Task<JsonNode> Create(string path, string json)
    {
        var (status, body) = await _gw.PostAsync(path, json);
        Assert.True(status == 201, $"{path}: {status} {body?.ToJsonString()}");
        return body!;
    }

    private Task<JsonNode> Service() => Create("/services", $$"""{"url":"http://127.0.0.1:{{_upstream.Port}}"}""");

    private Task<JsonNode> Route(string? serviceId = null) => Create("/routes",
        serviceId is null ? """{"hosts":["wasm.test"]}""" : $$$"""{"hosts":["wasm.test"],"service":{"id":"{{{serviceId}}}"}}""");

    private static string Id(JsonNode entity) => entity["id"]!.GetValue<string>();

    private static void AssertSame(JsonNode? expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(expected, actual), $"expected {expected?.ToJsonString()}\n  actual {actual?.ToJsonString()}");

    [Theory]
    [InlineData("id")]
    [InlineData("name")]
    public async Task Fetches_a_chain_by_id_or_name_equal_to_the_created_entity_and_404_otherwise(string key)
    {
        var service = await Service();
        var chain = await Create("/filter-chains", $$"""{"name":"by-{{key}}","service":{"id":"{{Id(service)}}"},"filters":[{"name":"tests"}]}""");
        var (status, got) = await _gw.GetAsync("/filter-chains/" + chain[key]!.GetValue<string>());
        Assert.Equal(200, status);
        AssertSame(chain, got);
        Assert.Equal(404, (await _gw.GetAsync("/filter-chains/" + Guid.NewGuid())).Status);
    }

    [Fact]
    public async Task Collection_lists_the_created_entities_whole()
    {
        var service = await Service();
        var route = await Route();
        var (_, empty) = await _gw.GetAsync("/filter-chains");
        AssertSame(JsonNode.Parse("""{"data":[],"next":null}"""), empty);
        var first = await Create("/filter-chains", $$"""{"service":{"id":"{{Id(service)}}"},"filters":[{"name":"tests"}],"tags":["a"]}""");
        var (_, one) = await _gw.GetAsync("/filter-chains");
        AssertSame(new JsonArray(first.DeepClone()), one!["data"]);
        await Create("/filter-chains", $$"""{"route":{"id":"{{Id(route)}}"},"filters":[{"name":"tests"}],"tags":["b"]}""");
        Assert.Equal(2, (await _gw.GetAsync("/filter-chains")).Body!["data"]!.AsArray().Count);
    }

    [Theory]
    [InlineData("services")]
    [InlineData("routes")]
    public async Task Nested_collection_creates_lists_and_refuses_other_methods(string rel)
    {
        var entity = rel == "services" ? await Service() : await Route();
        var path = $"/{rel}/{Id(entity)}/filter-chains";
        var (s0, empty) = await _gw.GetAsync(path);
        Assert.Equal(200, s0);
        AssertSame(JsonNode.Parse("""{"data":[],"next":null}"""), empty);
        var chain = await Create(path, """{"filters":[{"name":"tests"}],"tags":["a"]}""");
        Assert.True(Guid.TryParse(Id(chain), out _));
        Assert.Equal("""[{"name":"tests","enabled":true,"config":null}]""", chain["filters"]!.ToJsonString());
        var (_, listed) = await _gw.GetAsync(path);
        AssertSame(new JsonArray(chain.DeepClone()), listed!["data"]);
        foreach (var method in new[] { HttpMethod.Patch, HttpMethod.Put, HttpMethod.Delete })
            Assert.Equal(405, (await _gw.SendAsync(method, path, """{"filters":[{"name":"tests"}]}""")).Status);
    }

    [Theory]
    [InlineData("services")]
    [InlineData("routes")]
    public async Task Nested_chain_is_fetched_patched_in_place_and_deleted(string rel)
    {
        var entity = rel == "services" ? await Service() : await Route();
        var path = $"/{rel}/{Id(entity)}/filter-chains/";
        var chain = await Create(path[..^1], """{"filters":[{"name":"tests"}]}""");
        var (sg, got) = await _gw.GetAsync(path + Id(chain));
        Assert.Equal(200, sg);
        AssertSame(chain, got);
        Assert.Equal(404, (await _gw.GetAsync(path + Guid.NewGuid())).Status);
        Assert.Null(chain["tags"]);
        Assert.True(chain["enabled"]!.GetValue<bool>());

        var (sp, patched) = await _gw.SendAsync(HttpMethod.Patch, path + Id(chain), """
            {"tags":["foo","bar"],"enabled":false,"filters":[{"name":"tests","config":"123","enabled":true},{"name":"tests","config":"456","enabled":false}]}
            """);
        Assert.Equal(200, sp);
        Assert.Equal("""["foo","bar"]""", patched!["tags"]!.ToJsonString());
        Assert.False(patched["enabled"]!.GetValue<bool>());
        AssertSame(JsonNode.Parse("""[{"name":"tests","config":"123","enabled":true},{"name":"tests","config":"456","enabled":false}]"""), patched["filters"]);
        Assert.Equal(Id(chain), Id(patched));
        AssertSame(patched, (await _gw.GetAsync("/filter-chains/" + Id(chain))).Body);

        Assert.Equal(204, (await _gw.SendAsync(HttpMethod.Delete, path + Id(chain))).Status);
        Assert.Equal(404, (await _gw.GetAsync(path + Id(chain))).Status);
        Assert.Equal(404, (await _gw.GetAsync("/filter-chains/" + Id(chain))).Status);
    }

    /// <summary>Kong's <c>build_filters_response_from_fixtures</c>: the chains' filters in chain order (service
    /// first), each with config, enabled, filter_chain {id, name}, from and name.</summary>
    private static JsonObject Expected(string mode, params JsonNode[] chains)
    {
        var filters = new JsonArray();
        foreach (var chain in chains)
            foreach (var f in chain["filters"]!.AsArray())
            {
                var enabled = f!["enabled"]!.GetValue<bool>();
                if (mode == "enabled" && !enabled || mode == "disabled" && enabled) continue;
                filters.Add(new JsonObject
                {
                    ["config"] = f["config"]?.DeepClone(),
                    ["enabled"] = enabled,
                    ["filter_chain"] = new JsonObject { ["id"] = chain["id"]!.DeepClone(), ["name"] = chain["name"]?.DeepClone() },
                    ["from"] = chain["service"] is JsonObject ? "service" : "route",
                    ["name"] = f["name"]!.DeepClone(),
                });
            }
        return new JsonObject { ["filters"] = filters };
    }

    private async Task AssertRouteFilters(string routeId, (string Mode, int Count)[] expected, params JsonNode[] chains)
    {
        foreach (var (mode, count) in expected)
        {
            var want = Expected(mode, chains);
            Assert.Equal(count, want["filters"]!.AsArray().Count);
            var (status, got) = await _gw.GetAsync($"/routes/{routeId}/filters/{mode}");
            Assert.Equal(200, status);
            AssertSame(want, got);
        }
    }

    // Kong inserts these fixtures through the DAO, which does not run filters; Gatehouse also runs each enabled
    // entry's configure at write time, so enabled response_transformer entries get "{}" where Kong's have null.
    [Fact]
    public async Task Route_filters_with_chains_from_service_and_route()
    {
        var service = await Service();
        var route = await Route(Id(service));
        var fromService = await Create("/filter-chains", $$"""
            {"name":"fc1","service":{"id":"{{Id(service)}}"},"filters":[{"name":"tests","enabled":true},{"name":"response_transformer","config":"{}","enabled":false}]}
            """);
        var fromRoute = await Create("/filter-chains", $$"""
            {"route":{"id":"{{Id(route)}}"},"filters":[{"name":"tests","config":null,"enabled":false},{"name":"response_transformer","config":"{}","enabled":true}]}
            """);
        await AssertRouteFilters(Id(route), [("enabled", 2), ("disabled", 2), ("all", 4)], fromService, fromRoute);
    }

    [Fact]
    public async Task Route_filters_with_a_chain_from_the_service_only()
    {
        var service = await Service();
        var route = await Route(Id(service));
        var chain = await Create("/filter-chains", $$"""
            {"name":"fc1","service":{"id":"{{Id(service)}}"},"filters":[{"name":"tests","enabled":true},{"name":"response_transformer","config":"{}","enabled":false}]}
            """);
        await AssertRouteFilters(Id(route), [("enabled", 1), ("disabled", 1), ("all", 2)], chain);
    }

    [Fact]
    public async Task Route_filters_with_a_chain_from_the_route_only()
    {
        var service = await Service();
        var route = await Route(Id(service));
        var chain = await Create("/filter-chains", $$"""
            {"name":"fc1","route":{"id":"{{Id(route)}}"},"filters":[{"name":"tests","enabled":true},{"name":"response_transformer","config":"{}","enabled":false},{"name":"tests","enabled":true}]}
            """);
        await AssertRouteFilters(Id(route), [("enabled", 2), ("disabled", 1), ("all", 3)], chain);
    }

    [Fact]
    public async Task Id_is_generated_or_user_chosen_created_at_is_kept_and_updated_at_is_set_on_every_write()
    {
        var service = await Service();
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var generated = await Create("/filter-chains", $$"""{"service":{"id":"{{Id(service)}}"},"filters":[{"name":"tests"}]}""");
        var after = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.True(Guid.TryParse(Id(generated), out _));
        Assert.Null(generated["name"]);
        Assert.Null(generated["tags"]);
        Assert.True(generated["filters"]![0]!["enabled"]!.GetValue<bool>());
        Assert.InRange(generated["created_at"]!.GetValue<long>(), before, after);

        var id = Guid.NewGuid().ToString();
        var other = await Service();
        var chosen = await Create("/filter-chains", $$"""
            {"id":"{{id}}","created_at":1000,"updated_at":1000,"service":{"id":"{{Id(other)}}"},"filters":[{"name":"tests"}]}
            """);
        Assert.Equal(id, Id(chosen));
        Assert.Equal(1000, chosen["created_at"]!.GetValue<long>()); // Kong keeps a given created_at on insert
        Assert.InRange(chosen["updated_at"]!.GetValue<long>(), before, DateTimeOffset.UtcNow.ToUnixTimeSeconds()); // and sets updated_at

        // updated_at is set again on update, whatever the body says; tags are updated
        var (status, patched) = await _gw.SendAsync(HttpMethod.Patch, "/filter-chains/" + id, """{"tags":["foo"],"updated_at":1000}""");
        Assert.Equal(200, status);
        Assert.Equal("""["foo"]""", patched!["tags"]!.ToJsonString());
        Assert.Equal(1000, patched["created_at"]!.GetValue<long>());
        Assert.InRange(patched["updated_at"]!.GetValue<long>(), before, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    }

    [Fact]
    public async Task Chain_for_a_missing_route_is_a_foreign_key_violation_and_an_existing_route_is_referenced()
    {
        var missing = Guid.NewGuid().ToString();
        var (status, error) = await _gw.PostAsync("/filter-chains", $$"""{"route":{"id":"{{missing}}"},"filters":[{"name":"tests"}]}""");
        Assert.Equal(400, status);
        Assert.Equal("foreign key violation", error!["name"]!.GetValue<string>());
        Assert.Equal(4, error["code"]!.GetValue<int>());
        AssertSame(JsonNode.Parse($$$"""{"route":{"id":"{{{missing}}}"}}"""), error["fields"]);
        var route = await Create("/routes", """{"protocols":["http"],"methods":["GET"],"paths":["/"]}""");
        var chain = await Create("/filter-chains", $$"""{"route":{"id":"{{Id(route)}}"},"filters":[{"name":"tests"}]}""");
        Assert.Equal(Id(route), chain["route"]!["id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("null", null)]
    [InlineData("\"my config\"", null)]
    [InlineData("123", "number")]
    [InlineData("true", "boolean")]
    [InlineData("""{"a":1,"b":2}""", "object")]
    public async Task Without_a_schema_config_is_an_optional_string(string config, string? refusedType)
    {
        var service = await Service();
        var (status, body) = await _gw.PostAsync("/filter-chains",
            $$"""{"service":{"id":"{{Id(service)}}"},"filters":[{"name":"tests","config":{{config}}}]}""");
        if (refusedType is null)
        {
            Assert.True(status == 201, body?.ToJsonString());
            AssertSame(JsonNode.Parse(config), body!["filters"]![0]!["config"]);
            return;
        }
        Assert.Equal(400, status);
        Assert.Equal("schema violation", body!["name"]!.GetValue<string>());
        AssertSame(JsonNode.Parse($$"""{"filters":[{"config":"wrong type: expected one of string, null, got {{refusedType}}"}]}"""), body["fields"]);
    }

    [Fact]
    public async Task With_wasm_off_on_a_database_every_filter_chain_path_and_method_answers_400()
    {
        await using var gw = await WasmGateway.StartAsync(dbless: false, wasm: false, filtersPath: WasmPaths.KongTests);
        var (ss, service) = await gw.PostAsync("/services", """{"name":"wasm-test","url":"http://wasm.test"}""");
        Assert.Equal(201, ss);
        var serviceId = Id(service!);
        var chain = """{"tags":["foo","bar"],"enabled":false,"filters":[{"name":"tests","config":"123","enabled":true},{"name":"tests","config":"456","enabled":false}]}""";
        var nestedBody = $$$"""{"filters":[{"name":"tests"}],"service":{"id":"{{{serviceId}}}"}}""";
        var cases = new List<(HttpMethod, string, string?)>
        {
            (HttpMethod.Post, "/filter-chains", nestedBody),
            (HttpMethod.Get, "/filter-chains", null),
            (HttpMethod.Patch, "/filter-chains/a-name", chain),
            (HttpMethod.Put, "/filter-chains/another-name", chain),
            (HttpMethod.Delete, "/filter-chains/even-another-name", null),
        };
        foreach (var rel in new[] { "services", "routes" })
        {
            var (se, entity) = rel == "services"
                ? await gw.PostAsync("/services", """{"url":"http://wasm.test"}""")
                : await gw.PostAsync("/routes", """{"hosts":["wasm.test"]}""");
            Assert.Equal(201, se);
            var path = $"/{rel}/{Id(entity!)}/filter-chains";
            cases.Add((HttpMethod.Get, path, null));
            cases.Add((HttpMethod.Post, path, nestedBody));
            cases.Add((HttpMethod.Patch, $"{path}/{Guid.NewGuid()}", nestedBody));
            cases.Add((HttpMethod.Put, $"{path}/{Guid.NewGuid()}", nestedBody));
            cases.Add((HttpMethod.Delete, $"{path}/{Guid.NewGuid()}", null));
        }
        var (sr, route) = await gw.PostAsync("/routes", """{"hosts":["wasm.test"]}""");
        Assert.Equal(201, sr);
        foreach (var mode in new[] { "enabled", "disabled", "all" }) cases.Add((HttpMethod.Get, $"/routes/{Id(route!)}/filters/{mode}", null));
        foreach (var (method, path, body) in cases)
        {
            var (status, error) = await gw.SendAsync(method, path, body);
            Assert.True(status == 400, $"{method} {path}: {status} {error?.ToJsonString()}");
            Assert.Equal("this endpoint is only available when wasm is enabled", error!["message"]!.GetValue<string>());
        }
    }
}
