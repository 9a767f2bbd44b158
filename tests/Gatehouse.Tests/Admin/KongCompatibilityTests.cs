using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Store;

namespace Gatehouse.Tests.Admin;

/// <summary>
/// Admin API behaviours found to differ from Kong 3.x when driving the published executable by hand
/// (docs/kong-compatibility.md); each case failed before its fix.
/// </summary>
public class KongCompatibilityTests : AdminStoreTests
{
    private string _svcId = "";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _svcId = (string)(await _host.PostAsync("/services", new { name = "svc", url = "http://up.test" })).Body!["id"]!;
    }

    [Fact]
    public async Task Foreign_key_by_name_is_resolved_in_post_put_and_patch()
    {
        var (s1, created) = await _host.PostAsync("/routes", new { name = "r", paths = new[] { "/r" }, service = new { name = "svc" } });
        Assert.Equal(201, s1);
        Assert.Equal(_svcId, (string?)created!["service"]!["id"]);
        Assert.Null(created["service"]!["name"]);

        var otherId = (string)(await _host.PostAsync("/services", new { name = "other", host = "o.test" })).Body!["id"]!;
        var (s2, patched) = await _host.SendAsync(HttpMethod.Patch, "/routes/r", new { service = new { name = "other" } });
        Assert.Equal(200, s2);
        Assert.Equal(otherId, (string?)patched!["service"]!["id"]);

        var (s3, put) = await _host.SendAsync(HttpMethod.Put, "/routes/p", new { paths = new[] { "/p" }, service = new { name = "svc" } });
        Assert.Equal(200, s3);
        Assert.Equal(_svcId, (string?)put!["service"]!["id"]);

        var form = new StringContent("name=f&paths=/f&service.name=other", Encoding.UTF8, "application/x-www-form-urlencoded");
        var (s4, viaForm) = await _host.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/routes") { Content = form });
        Assert.Equal(201, s4);
        Assert.Equal(otherId, (string?)viaForm!["service"]!["id"]);
    }

    [Fact]
    public async Task Unresolvable_foreign_key_is_kongs_code_13()
    {
        var (status, body) = await _host.PostAsync("/routes", new { paths = new[] { "/x" }, service = new { name = "nope" } });
        Assert.Equal(400, status);
        Assert.Equal(13, (int)body!["code"]!);
        Assert.Equal("foreign keys unresolved", (string?)body["name"]);
        const string expected = "the foreign key cannot be resolved with '{name=\"nope\"}' for an existing 'services' entity";
        Assert.Equal(expected, (string?)body["fields"]!["service"]!["name"]);
        Assert.Equal($"foreign key unresolved (service.name: {expected})", (string?)body["message"]);
        Assert.Empty((await _host.GetAsync("/routes")).Body!["data"]!.AsArray());
    }

    [Theory]
    [InlineData("GET", "/nope")]
    [InlineData("POST", "/services/svc/nope/deeper")]
    [InlineData("DELETE", "/foo.txt")]
    public async Task Unknown_admin_path_is_kongs_json_404(string method, string path)
    {
        var (status, body) = await _host.SendAsync(new HttpMethod(method), path);
        Assert.Equal(404, status);
        Assert.Equal("Not found", (string?)body!["message"]);
    }

    [Theory]
    [InlineData("/routes", "GET, HEAD, OPTIONS, POST")]
    [InlineData("/services/svc/routes", "GET, HEAD, OPTIONS, POST")]
    [InlineData("/services/svc", "DELETE, GET, HEAD, OPTIONS, PATCH, PUT")]
    public async Task Options_answers_204_with_allow_and_cors_headers(string path, string allow)
    {
        using var response = await _host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Options, path));
        Assert.Equal(204, (int)response.StatusCode);
        Assert.Equal(allow, string.Join(", ", response.Content.Headers.Allow));
        Assert.Equal(allow, string.Join(", ", response.Headers.GetValues("Access-Control-Allow-Methods")));
        Assert.Equal("Content-Type", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Headers")));
        // no origin without admin_gui_url: the CORS answer is AdminGuard's (AdminExposureTests); Kong 3.9 sends "*"
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.Equal("", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("""{"host":"a.test","name":""}""", "name")]
    [InlineData("""{"host":"a.test","path":""}""", "path")]
    [InlineData("""{"host":""}""", "host")]
    public async Task Empty_json_string_is_refused_with_kongs_default_len_min(string json, string field)
    {
        var (status, body) = await _host.SendAsync(HttpMethod.Post, "/services", json);
        Assert.Equal(400, status);
        Assert.Equal("length must be at least 1", (string?)body!["fields"]![field]);
    }

    [Fact]
    public async Task Empty_form_value_is_null()
    {
        var form = new StringContent("name=&hosts=h.test&paths=&tags=", Encoding.UTF8, "application/x-www-form-urlencoded");
        var (status, route) = await _host.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/routes") { Content = form });
        Assert.Equal(201, status);
        Assert.Null(route!["name"]);
        Assert.Null(route["paths"]);
        Assert.Null(route["tags"]);
        Assert.True(route.AsObject().ContainsKey("paths"));

        var clear = new StringContent("path=", Encoding.UTF8, "application/x-www-form-urlencoded");
        await _host.SendAsync(HttpMethod.Patch, "/services/svc", new { path = "/p" });
        var (s2, svc) = await _host.SendAsync(new HttpRequestMessage(HttpMethod.Patch, "/services/svc") { Content = clear });
        Assert.Equal(200, s2);
        Assert.Null(svc!["path"]);
        Assert.Equal("up.test", (string?)svc["host"]);
    }

    [Theory]
    [InlineData("""{"hosts":["a.test:99999"]}""", "hosts", "invalid port number")]
    [InlineData("""{"protocols":["https"],"snis":["*.*.a.test"]}""", "snis", "only one wildcard must be specified")]
    [InlineData("""{"protocols":["https"],"snis":["a.*.test"]}""", "snis", "wildcard must be leftmost or rightmost character")]
    [InlineData("""{"protocols":["https"],"snis":["10.0.0.1"]}""", "snis", "must not be an IP")]
    [InlineData("""{"protocols":["https"],"snis":["a.test:443"]}""", "snis", "must not have a port")]
    [InlineData("""{"protocols":["https"],"snis":["a..test"]}""", "snis", "invalid value: a..test")]
    public async Task Host_and_sni_messages_are_kongs(string json, string field, string message)
    {
        var (status, body) = await _host.SendAsync(HttpMethod.Post, "/routes", json);
        Assert.Equal(400, status);
        Assert.Equal(message, (string?)body!["fields"]![field]![0]);
    }

    [Fact]
    public async Task Wildcard_sni_is_accepted_under_traditional_compatible()
    {
        var (status, route) = await _host.SendAsync(HttpMethod.Post, "/routes", """{"protocols":["https"],"snis":["*.a.test","b.*"]}""");
        Assert.Equal(201, status);
        Assert.Equal(2, route!["snis"]!.AsArray().Count);
    }

    [Fact]
    public async Task Put_on_the_service_of_a_route_without_one_creates_and_associates_it()
    {
        Assert.Equal(201, (await _host.PostAsync("/routes", new { name = "orphan", paths = new[] { "/o" } })).Status);
        Assert.Equal(404, (await _host.GetAsync("/routes/orphan/service")).Status);
        var (status, svc) = await _host.SendAsync(HttpMethod.Put, "/routes/orphan/service", new { url = "http://new.test:81/n" });
        Assert.Equal(200, status);
        Assert.Equal("new.test", (string?)svc!["host"]);
        var (s2, linked) = await _host.GetAsync("/routes/orphan/service");
        Assert.Equal(200, s2);
        Assert.Equal((string?)svc["id"], (string?)linked!["id"]);
        Assert.Equal(81, (int)linked["port"]!);
    }

    [Fact]
    public async Task Patch_on_the_service_of_a_route_by_name_accepts_url_and_form()
    {
        Assert.Equal(201, (await _host.PostAsync("/services/svc/routes", new { name = "rr", paths = new[] { "/rr" } })).Status);
        var (s1, json) = await _host.SendAsync(HttpMethod.Patch, "/routes/rr/service", new { url = "http://edited2.test:1234/foo" });
        Assert.Equal(200, s1);
        Assert.Equal(("edited2.test", 1234, "/foo"), ((string?)json!["host"], (int)json["port"]!, (string?)json["path"]));
        var form = new StringContent("name=renamed&path=", Encoding.UTF8, "application/x-www-form-urlencoded");
        var (s2, viaForm) = await _host.SendAsync(new HttpRequestMessage(HttpMethod.Patch, "/routes/rr/service") { Content = form });
        Assert.Equal(200, s2);
        Assert.Equal("renamed", (string?)viaForm!["name"]);
        Assert.Null(viaForm["path"]);
        Assert.Equal(_svcId, (string?)viaForm["id"]);
    }
}

/// <summary>Every test of <see cref="KongCompatibilityTests"/> on PostgreSQL.</summary>
public sealed class KongCompatibilityTestsOnPostgres : KongCompatibilityTests
{
    private protected override AdminStore Store => AdminStore.Postgres;
}
