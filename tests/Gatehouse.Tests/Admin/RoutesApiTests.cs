using System.Text.Json.Nodes;
using Gatehouse.Tests.Store;

namespace Gatehouse.Tests.Admin;

public class RoutesApiTests : AdminStoreTests
{
    private string _serviceId = "";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _serviceId = (string)(await _host.PostAsync("/services", new { name = "svc", url = "http://up.test" })).Body!["id"]!;
    }

    [Fact]
    public async Task Route_with_service_round_trip_and_nested_endpoints()
    {
        var (status, route) = await _host.PostAsync("/routes", new
        {
            name = "r1", paths = new[] { "/api", "~/v[0-9]+/items$" }, hosts = new[] { "*.example.com", "api.test:8080" },
            methods = new[] { "GET", "POST" }, headers = new Dictionary<string, string[]> { ["x-version"] = ["1", "2"] },
            service = new { id = _serviceId },
        });
        Assert.Equal(201, status);
        Assert.Equal(["http", "https"], route!["protocols"]!.AsArray().Select(p => (string)p!));
        Assert.True((bool)route["strip_path"]!);
        Assert.Equal(426, (int)route["https_redirect_status_code"]!);
        Assert.Equal("v0", (string?)route["path_handling"]);
        Assert.Equal(_serviceId, (string?)route["service"]!["id"]);

        var (s1, nested) = await _host.GetAsync("/services/svc/routes");
        Assert.Equal(200, s1);
        Assert.Equal("r1", (string?)Assert.Single(nested!["data"]!.AsArray())!["name"]);

        var (s2, svc) = await _host.GetAsync("/routes/r1/service");
        Assert.Equal(200, s2);
        Assert.Equal(_serviceId, (string?)svc!["id"]);
        Assert.Equal(405, (await _host.SendAsync(HttpMethod.Delete, "/routes/r1/service")).Status);

        var (s3, viaNested) = await _host.GetAsync($"/services/{_serviceId}/routes/r1");
        Assert.Equal(200, s3);
        Assert.Equal("r1", (string?)viaNested!["name"]);

        var (s4, created) = await _host.PostAsync("/services/svc/routes", new { name = "r2", paths = new[] { "/two" } });
        Assert.Equal(201, s4);
        Assert.Equal(_serviceId, (string?)created!["service"]!["id"]);

        Assert.Equal(404, (await _host.GetAsync("/services/nope/routes")).Status);
        Assert.Equal(201, (await _host.PostAsync("/routes", new { name = "lonely", hosts = new[] { "l.test" } })).Status);
        Assert.Equal(404, (await _host.GetAsync("/routes/lonely/service")).Status);
        Assert.Equal(404, (await _host.GetAsync("/services/svc/routes/lonely")).Status);
    }

    [Fact]
    public async Task Nested_writes_are_scoped_to_the_parent()
    {
        var otherId = (string)(await _host.PostAsync("/services", new { name = "other", host = "o.test" })).Body!["id"]!;
        var (s1, put) = await _host.SendAsync(HttpMethod.Put, "/services/svc/routes/nested", new { paths = new[] { "/n" } });
        Assert.Equal(200, s1);
        Assert.Equal(_serviceId, (string?)put!["service"]!["id"]);

        Assert.Equal(404, (await _host.SendAsync(HttpMethod.Patch, "/services/other/routes/nested", new { paths = new[] { "/m" } })).Status);
        Assert.Equal(404, (await _host.SendAsync(HttpMethod.Delete, "/services/other/routes/nested")).Status);

        var (s2, patched) = await _host.SendAsync(HttpMethod.Patch, "/services/svc/routes/nested", new { strip_path = false });
        Assert.Equal(200, s2);
        Assert.False((bool)patched!["strip_path"]!);

        var (s3, svc) = await _host.SendAsync(HttpMethod.Patch, "/routes/nested/service", new { retries = 9 });
        Assert.Equal(200, s3);
        Assert.Equal(9, (int)svc!["retries"]!);
        Assert.Equal(_serviceId, (string?)svc["id"]);

        var (s4, moved) = await _host.SendAsync(HttpMethod.Patch, "/routes/nested", new { service = new { id = otherId } });
        Assert.Equal(200, s4);
        Assert.Equal(otherId, (string?)moved!["service"]!["id"]);
        Assert.Single((await _host.GetAsync("/services/other/routes")).Body!["data"]!.AsArray());
        Assert.Equal(204, (await _host.SendAsync(HttpMethod.Delete, "/services/other/routes/nested")).Status);
        Assert.Equal(404, (await _host.GetAsync("/routes/nested")).Status);
    }

    [Fact]
    public async Task Grpc_routes_default_to_not_stripping_the_path()
    {
        var (status, route) = await _host.PostAsync("/routes", new { protocols = new[] { "grpc" }, paths = new[] { "/pkg.Svc" } });
        Assert.Equal(201, status);
        Assert.False((bool)route!["strip_path"]!);
    }

    [Fact]
    public async Task Deleting_a_service_with_routes_is_a_foreign_key_violation()
    {
        Assert.Equal(201, (await _host.PostAsync("/routes", new { paths = new[] { "/x" }, service = new { id = _serviceId } })).Status);
        var (status, body) = await _host.SendAsync(HttpMethod.Delete, "/services/svc");
        Assert.Equal(400, status);
        Assert.Equal(4, (int)body!["code"]!);
        Assert.Equal("an existing 'routes' entity references this 'services' entity", (string?)body["message"]);
        Assert.Equal(200, (await _host.GetAsync("/services/svc")).Status);
    }

    [Fact]
    public async Task Unknown_service_is_a_foreign_key_violation()
    {
        var missing = Guid.NewGuid();
        var (status, body) = await _host.PostAsync("/routes", new { paths = new[] { "/x" }, service = new { id = missing } });
        Assert.Equal(400, status);
        Assert.Equal(4, (int)body!["code"]!);
        Assert.Equal("foreign key violation", (string?)body["name"]);
        Assert.Equal($"the foreign key '{{id=\"{missing}\"}}' does not reference an existing 'services' entity.", (string?)body["message"]);
        Assert.Equal(missing.ToString(), (string?)body["fields"]!["service"]!["id"]);
    }

    [Theory]
    [InlineData("""{"paths":["/"],"sources":[{"ip":"10.0.0.0/8"}]}""", "sources", "cannot set 'sources' when 'protocols' is 'http' or 'https'")]
    // Gatehouse has no stream proxy and no Enterprise WebSocket routes: refused, not stored to never match
    [InlineData("""{"protocols":["tcp"],"sources":[{"ip":"10.0.0.0/8"}]}""", "protocols", "stream routes are not supported by Gatehouse")]
    [InlineData("""{"protocols":["tls","udp"],"snis":["a.test"]}""", "protocols", "stream routes are not supported by Gatehouse")]
    [InlineData("""{"protocols":["tls_passthrough"],"snis":["a.test"]}""", "protocols", "stream routes are not supported by Gatehouse")]
    [InlineData("""{"protocols":["ws"],"paths":["/"]}""", "protocols", "ws and wss routes are not supported by Gatehouse")]
    [InlineData("""{"protocols":["wss"],"hosts":["a.test"]}""", "protocols", "ws and wss routes are not supported by Gatehouse")]
    [InlineData("""{"protocols":["https"]}""", "@entity", "must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'")]
    [InlineData("""{"protocols":["http"],"snis":["a.test"],"paths":["/"]}""", "@entity", "'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'")]
    [InlineData("""{"paths":["api"]}""", "paths", "should start with: / (fixed path) or ~/ (regex path)")]
    [InlineData("""{"paths":["~/(unclosed"]}""", "paths", "invalid regex: '/(unclosed'")]
    [InlineData("""{"paths":["~/a)|(.*"]}""", "paths", "invalid regex: '/a)|(.*'")]
    [InlineData("""{"paths":["~/(?=a)a"]}""", "paths", "invalid regex: '/(?=a)a' (RegexOptions.NonBacktracking is not supported")]
    [InlineData("""{"paths":["/a/../b"]}""", "paths", "non-normalized path, consider use '/b' instead")]
    [InlineData("""{"paths":["/%7Euser"]}""", "paths", "non-normalized path, consider use '/~user' instead")]
    [InlineData("""{"paths":["/bad%zz"]}""", "paths", "invalid url-encoded value: '%zz'")]
    [InlineData("""{"hosts":["a.*.com"]}""", "hosts", "invalid wildcard: must be placed at leftmost or rightmost label")]
    [InlineData("""{"hosts":["*.a.*"]}""", "hosts", "invalid wildcard: must have at most one wildcard")]
    [InlineData("""{"methods":["get"]}""", "methods", "invalid value: get")]
    [InlineData("""{"headers":{"Host":["x"]}}""", "headers", "cannot contain 'host' header, which must be specified in the 'hosts' attribute")]
    [InlineData("""{"paths":["/"],"https_redirect_status_code":400}""", "https_redirect_status_code", "expected one of: 426, 301, 302, 307, 308")]
    [InlineData("""{"paths":["/"],"path_handling":"v2"}""", "path_handling", "expected one of: v0, v1")]
    [InlineData("""{"protocols":["http","tcp"],"paths":["/"]}""", "protocols", "these sets are mutually exclusive: ('http', 'https'), ('tcp', 'tls', 'udp')")]
    [InlineData("""{"paths":["/"],"service":{"id":"nope"}}""", "service", "expected a valid UUID")]
    [InlineData("""{"paths":["/"],"protocols":[]}""", "protocols", "length must be at least 1")]
    [InlineData("""{"protocols":["grpc"],"paths":["/"],"strip_path":true}""", "strip_path", "cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs'")]
    [InlineData("""{"protocols":["grpc"],"methods":["GET"],"paths":["/"]}""", "methods", "cannot set 'methods' when 'protocols' is 'grpc' or 'grpcs'")]
    public async Task Route_validation_messages(string json, string field, string expected)
    {
        var (status, body) = await _host.SendAsync(HttpMethod.Post, "/routes", json);
        Assert.Equal(400, status);
        Assert.Equal(2, (int)body!["code"]!);
        Assert.Contains(expected, Flatten(body["fields"]![field]));
    }

    private static string Flatten(JsonNode? node) => node switch
    {
        JsonArray a => string.Join("|", a.Select(Flatten)),
        JsonObject o => string.Join("|", o.Select(p => Flatten(p.Value))),
        null => "",
        _ => node.ToString(),
    };
}

/// <summary>Every test of <see cref="RoutesApiTests"/> on PostgreSQL.</summary>
public sealed class RoutesApiTestsOnPostgres : RoutesApiTests
{
    private protected override AdminStore Store => AdminStore.Postgres;
}
