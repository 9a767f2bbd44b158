using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Admin;

namespace Gatehouse.Tests.Plugins;

/// <summary>The plugins, consumers and credential endpoints against real SQLite (and PostgreSQL: the subclass below): defaults, Kong's errors, and
/// that refused writes store nothing.</summary>
public class PluginAdminApiTests : IAsyncLifetime
{
    private PluginGateway _gw = null!;

    private protected virtual AdminStore Store => AdminStore.Sqlite;

    public async Task InitializeAsync() => _gw = await PluginGateway.StartAsync(configure: await AdminStores.ConfigureAsync(Store));
    public async Task DisposeAsync() => await _gw.DisposeAsync();

    [Fact]
    public async Task Plugin_gets_its_config_defaults_and_nested_endpoints_list_it()
    {
        var (_, routeId) = await _gw.ServiceAndRouteAsync("svc", "/a");
        var plugin = await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "rate-limiting", config = new { minute = 5 } });
        Assert.Equal(routeId, (string?)plugin["route"]!["id"]);
        Assert.Null(plugin["service"]);
        Assert.Equal("local", (string?)plugin["config"]!["policy"]);
        Assert.Equal("consumer", (string?)plugin["config"]!["limit_by"]);
        Assert.Equal(5, (double)plugin["config"]!["minute"]!);
        Assert.True((bool)plugin["enabled"]!);
        Assert.Equal(["grpc", "grpcs", "http", "https"], plugin["protocols"]!.AsArray().Select(p => (string)p!));

        var (s, list) = await _gw.GetAsync($"/routes/{routeId}/plugins");
        Assert.Equal(200, s);
        Assert.Single(list!["data"]!.AsArray());
        var (s2, all) = await _gw.GetAsync("/plugins");
        Assert.Equal(200, s2);
        Assert.Equal((string?)plugin["id"], (string?)all!["data"]![0]!["id"]);
        var (s3, services) = await _gw.GetAsync("/services/svc/plugins");
        Assert.Equal(200, s3);
        Assert.Empty(services!["data"]!.AsArray());
    }

    [Fact]
    public async Task Unknown_plugin_is_refused_with_kongs_message()
    {
        var (status, body) = await _gw.PostAsync("/plugins", new { name = "no-such-plugin" });
        Assert.Equal(400, status);
        Assert.Equal("schema violation", (string?)body!["name"]);
        Assert.Equal("plugin 'no-such-plugin' not enabled; add it to the 'plugins' configuration property", (string?)body["fields"]!["name"]);
        Assert.Empty((await _gw.GetAsync("/plugins")).Body!["data"]!.AsArray());
    }

    /// <summary>A plugin limited to stream or ws/wss protocols would be stored and never run (there are no such
    /// routes); beside an http-family protocol they are harmless, as in Kong's own exports.</summary>
    [Theory]
    [InlineData("""["tcp"]""", 400)]
    [InlineData("""["tls", "udp", "tls_passthrough"]""", 400)]
    [InlineData("""["ws", "wss"]""", 400)]
    [InlineData("""["http", "tcp"]""", 201)]
    [InlineData("""["grpc", "grpcs", "http", "https"]""", 201)]
    public async Task A_plugin_that_could_only_run_on_stream_or_websocket_protocols_is_refused(string protocols, int expected)
    {
        var body = new System.Text.Json.Nodes.JsonObject { ["name"] = "ip-restriction", ["config"] = new System.Text.Json.Nodes.JsonObject { ["allow"] = new System.Text.Json.Nodes.JsonArray("10.0.0.1") },
            ["protocols"] = System.Text.Json.Nodes.JsonNode.Parse(protocols) };
        var (status, answer) = await _gw.PostAsync("/plugins", body);
        Assert.Equal(expected, status);
        if (expected == 400)
            Assert.Contains("never runs on Gatehouse", (string?)answer!["fields"]!["protocols"]);
        else
            Assert.Equal(204, (await _gw.SendAsync(HttpMethod.Delete, $"/plugins/{answer!["id"]}")).Status);
    }

    [Fact]
    public async Task Config_violations_are_reported_under_fields_config()
    {
        var (status, body) = await _gw.PostAsync("/plugins", new { name = "key-auth", config = new { hide_credentials = "yes", nope = 1 } });
        Assert.Equal(400, status);
        Assert.Equal("expected a boolean", (string?)body!["fields"]!["config"]!["hide_credentials"]);
        Assert.Equal("unknown field", (string?)body["fields"]!["config"]!["nope"]);

        var (s2, b2) = await _gw.PostAsync("/plugins", new { name = "rate-limiting", config = new { policy = "local" } });
        Assert.Equal(400, s2);
        Assert.Contains("at least one of these fields must be non-empty", b2!["fields"]!["config"]!["@entity"]![0]!.GetValue<string>());
        Assert.Empty((await _gw.GetAsync("/plugins")).Body!["data"]!.AsArray());
    }

    [Fact]
    public async Task Plugin_on_unknown_route_is_a_foreign_key_violation()
    {
        var missing = Guid.NewGuid().ToString();
        var (status, body) = await _gw.PostAsync("/plugins", new { name = "cors", route = new { id = missing } });
        Assert.Equal(400, status);
        Assert.Equal("foreign key violation", (string?)body!["name"]);
        Assert.Equal(missing, (string?)body["fields"]!["route"]!["id"]);
        Assert.Empty((await _gw.GetAsync("/plugins")).Body!["data"]!.AsArray());
    }

    [Fact]
    public async Task Same_plugin_twice_on_one_scope_is_409_but_other_scopes_are_fine()
    {
        var (_, routeId) = await _gw.ServiceAndRouteAsync("svc", "/a");
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "cors" });
        var (status, body) = await _gw.PostAsync("/routes/svc-route/plugins", new { name = "cors" });
        Assert.Equal(409, status);
        Assert.Equal("unique constraint violation", (string?)body!["name"]);
        // Kong's plugin cache_key fields, absent scopes as null
        Assert.Equal($$"""{"consumer":null,"name":"cors","route":{"id":"{{routeId}}"},"service":null}""", body["fields"]!.ToJsonString());
        await _gw.CreateAsync("/services/svc/plugins", new { name = "cors" });
        await _gw.CreateAsync("/plugins", new { name = "cors" });
        Assert.Equal(409, (await _gw.PostAsync("/plugins", new { name = "cors" })).Status);
        Assert.Equal(3, (await _gw.GetAsync("/plugins")).Body!["data"]!.AsArray().Count);
    }

    [Fact]
    public async Task Enabled_list_plugin_schema_and_root_availability()
    {
        var (s1, enabled) = await _gw.GetAsync("/plugins/enabled");
        Assert.Equal(200, s1);
        var names = enabled!["enabled_plugins"]!.AsArray().Select(n => (string)n!).ToList();
        Assert.Contains("key-auth", names);
        Assert.Contains("rate-limiting", names);

        var (s2, schema) = await _gw.GetAsync("/schemas/plugins/key-auth");
        Assert.Equal(200, s2);
        var config = schema!["fields"]!.AsArray().Select(f => f!.AsObject()).Single(f => f.ContainsKey("config"))["config"]!;
        var keyNames = config["fields"]!.AsArray().Select(f => f!.AsObject()).Single(f => f.ContainsKey("key_names"))["key_names"]!;
        Assert.Equal("apikey", (string?)keyNames["default"]![0]);
        Assert.Equal(404, (await _gw.GetAsync("/schemas/plugins/nope")).Status);

        await _gw.CreateAsync("/plugins", new { name = "cors" });
        var (s3, root) = await _gw.GetAsync("/");
        Assert.Equal(200, s3);
        Assert.Equal(1250, (int)root!["plugins"]!["available_on_server"]!["key-auth"]!["priority"]!);
        Assert.Equal(["cors"], root["plugins"]!["enabled_in_cluster"]!.AsArray().Select(n => (string)n!));
    }

    [Fact]
    public async Task Consumers_and_credentials()
    {
        var (s0, e0) = await _gw.PostAsync("/consumers", new { tags = new[] { "x" } });
        Assert.Equal(400, s0);
        Assert.Contains("at least one of these fields must be non-empty", e0!["fields"]!["@entity"]![0]!.GetValue<string>());
        var consumer = await _gw.CreateAsync("/consumers", new { username = "alice" });
        var consumerId = (string)consumer["id"]!;

        var key = await _gw.CreateAsync("/consumers/alice/key-auth", new { });
        Assert.Equal(32, ((string)key["key"]!).Length);
        Assert.Equal(consumerId, (string?)key["consumer"]!["id"]);
        await _gw.CreateAsync("/consumers/alice/key-auth", new { key = "fixed" });
        Assert.Equal(409, (await _gw.PostAsync("/consumers/alice/key-auth", new { key = "fixed" })).Status);

        var basic = await _gw.CreateAsync("/consumers/alice/basic-auth", new { username = "al", password = "s3cret" });
        var expected = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes("s3cret" + consumerId)));
        Assert.Equal(expected, (string?)basic["password"]);

        await _gw.CreateAsync("/consumers/alice/acls", new { group = "admins" });
        Assert.Equal(409, (await _gw.PostAsync("/consumers/alice/acls", new { group = "admins" })).Status);
        var (s, acls) = await _gw.GetAsync("/consumers/alice/acls");
        Assert.Equal(200, s);
        Assert.Equal("admins", (string?)acls!["data"]![0]!["group"]);

        Assert.Equal(204, (await _gw.SendAsync(HttpMethod.Delete, "/consumers/alice")).Status);
        Assert.Empty((await _gw.GetAsync("/key-auths")).Body!["data"]!.AsArray());
    }
}

/// <summary>Every test of <see cref="PluginAdminApiTests"/> on PostgreSQL.</summary>
public sealed class PluginAdminApiTestsOnPostgres : PluginAdminApiTests
{
    private protected override AdminStore Store => AdminStore.Postgres;
}
