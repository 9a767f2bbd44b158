using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Store;

namespace Gatehouse.Tests.Admin;

/// <summary>key_sets (with Kong's nested <c>keys</c>) and top-level keys in a declarative file: loaded, shown by the
/// Admin API as stored, exported by <c>GET /config</c> with every field, and the export loads back unchanged; a bad
/// key fails the whole file with Kong's message.</summary>
public sealed class KeysDeclarativeTests : IAsyncLifetime
{
    private const string SetId = "1d6f0f5e-7c4b-4f7e-9a51-2c3d4e5f6a7b";
    private static readonly string NestedJwk = TestKeys.RsaJwk("nested-kid");
    private static readonly (string Public, string Private) Pem = TestKeys.PemPair(ec: true);

    private readonly TempDir _dir = new();
    private AdminTestHost _host = null!;

    private static JsonObject Config() => new()
    {
        ["_format_version"] = "3.0",
        ["key_sets"] = new JsonArray(new JsonObject
        {
            ["id"] = SetId, ["name"] = "signing", ["tags"] = new JsonArray("ks"),
            ["keys"] = new JsonArray(new JsonObject { ["name"] = "nested", ["kid"] = "nested-kid", ["jwk"] = NestedJwk, ["tags"] = new JsonArray("k") }),
        }),
        ["keys"] = new JsonArray(
            new JsonObject
            {
                ["name"] = "in-set-by-name", ["kid"] = "pem-kid", ["set"] = "signing",
                ["pem"] = new JsonObject { ["public_key"] = Pem.Public, ["private_key"] = Pem.Private },
            },
            new JsonObject { ["kid"] = "loose", ["pem"] = new JsonObject { ["public_key"] = Pem.Public } }),
    };

    public async Task InitializeAsync() => _host = await AdminTestHost.StartDbLessAsync(Config().ToJsonString(), _dir); // JSON is YAML

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task The_file_loads_as_the_Admin_API_shows_it()
    {
        var (_, nested) = await _host.GetAsync("/keys/nested");
        Assert.Equal(SetId, (string?)nested!["set"]!["id"]);
        Assert.Equal(NestedJwk, (string?)nested["jwk"]);
        var (_, byName) = await _host.GetAsync("/keys/in-set-by-name");
        Assert.Equal(SetId, (string?)byName!["set"]!["id"]);
        Assert.Equal(Pem.Private, (string?)byName["pem"]!["private_key"]);
        var inSet = (await _host.GetAsync("/key-sets/signing/keys")).Body!["data"]!.AsArray();
        Assert.Equal(["nested-kid", "pem-kid"], inSet.Select(k => (string)k!["kid"]!).Order(StringComparer.Ordinal));
        var config = _host.Publisher.Current;
        Assert.Equal("signing", Assert.Single(config.KeySets).Name);
        Assert.Equal(3, config.Keys.Length);
        Assert.Equal(Pem.Public, Assert.Single(config.Keys, k => k.Kid == "loose").PemPublicKey);
    }

    [Fact]
    public async Task The_export_holds_every_field_and_loads_back_unchanged()
    {
        var before = await SnapshotAsync();
        var yaml = (string)(await _host.GetAsync("/config")).Body!["config"]!;
        foreach (var expected in new[] { "key_sets:", "keys:", "kid: nested-kid", "private_key:", "public_key:", SetId })
            Assert.Contains(expected, yaml);

        var (status, body) = await _host.SendRawAsync(HttpMethod.Post, "/config", Encoding.UTF8.GetBytes(yaml), "application/x-yaml");
        Assert.True(status == 201, body?.ToJsonString());
        Assert.Equal(before, await SnapshotAsync());
    }

    [Fact]
    public async Task A_bad_nested_key_or_a_duplicate_kid_in_a_set_fails_the_whole_file()
    {
        var bad = Config();
        bad["key_sets"]![0]!["keys"]!.AsArray().Add(new JsonObject { ["kid"] = "x", ["jwk"] = """{"kid": "x"}""" });
        bad["keys"]!.AsArray().Add(new JsonObject { ["kid"] = "pem-kid", ["set"] = SetId, ["pem"] = new JsonObject { ["public_key"] = Pem.Public } });
        var (status, body) = await _host.SendAsync(HttpMethod.Post, "/config?flatten_errors=1", bad.ToJsonString());
        Assert.Equal(400, status);
        var errors = body!["flattened_errors"]!.AsArray();
        Assert.Contains(errors, e => (string?)e!["entity_type"] == "key"
            && e["errors"]!.AsArray().Any(x => (string?)x!["message"] == "could not load JWK, likely not a valid key"));
        Assert.Contains(errors, e => (string?)e!["entity_type"] == "key"
            && e["errors"]!.AsArray().Any(x => ((string?)x!["message"])?.StartsWith("uniqueness violation: 'keys' entity with cache_key set to 'pem-kid:" + SetId, StringComparison.Ordinal) == true));
        Assert.Equal(3, (await _host.GetAsync("/keys")).Body!["data"]!.AsArray().Count); // the running configuration is kept
    }

    private async Task<string> SnapshotAsync()
    {
        var parts = new List<string>();
        foreach (var path in new[] { "/key-sets", "/keys" })
            parts.Add((await _host.GetAsync(path)).Body!["data"]!.ToJsonString());
        return string.Join("\n", parts);
    }
}
