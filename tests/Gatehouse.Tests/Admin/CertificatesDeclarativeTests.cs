using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Store;

namespace Gatehouse.Tests.Admin;

/// <summary>certificates (with Kong's nested <c>snis: [{name}]</c>), top-level snis and ca_certificates in a
/// declarative file: loaded, shown by the Admin API as Kong's, exported by <c>GET /config</c> with every field, and
/// the export loads back unchanged.</summary>
public sealed class CertificatesDeclarativeTests : IAsyncLifetime
{
    private static readonly PemPair Rsa = TestCertificates.Rsa();
    private static readonly PemPair Ecdsa = TestCertificates.Ecdsa();
    private static readonly PemPair Ca = TestCertificates.Ca();
    private const string CertId = "6b0f6b8e-5b8a-4b8e-9c61-1f8d0c2a9e01";

    private readonly TempDir _dir = new();
    private AdminTestHost _host = null!;

    private static JsonObject Config() => new()
    {
        ["_format_version"] = "3.0",
        ["certificates"] = new JsonArray(
            new JsonObject
            {
                ["id"] = CertId, ["cert"] = Rsa.Cert, ["key"] = Rsa.Key,
                ["tags"] = new JsonArray("tls"),
                ["snis"] = new JsonArray(new JsonObject { ["name"] = "b.example.test" }, new JsonObject { ["name"] = "*.example.test", ["tags"] = new JsonArray("w") }),
            }),
        ["snis"] = new JsonArray(new JsonObject { ["name"] = "a.example.test", ["certificate"] = CertId }),
        ["ca_certificates"] = new JsonArray(new JsonObject { ["cert"] = Ca.Cert, ["tags"] = new JsonArray("ca") }),
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
        var (_, cert) = await _host.GetAsync($"/certificates/{CertId}");
        Assert.Equal(["*.example.test", "a.example.test", "b.example.test"], cert!["snis"]!.AsArray().Select(n => (string)n!));
        Assert.Null(cert["key_alt"]);
        var (status, wildcard) = await _host.GetAsync("/snis/*.example.test");
        Assert.Equal(200, status);
        Assert.Equal(CertId, (string?)wildcard!["certificate"]!["id"]);
        Assert.Equal(["w"], wildcard["tags"]!.AsArray().Select(t => (string)t!));
        var ca = Assert.Single((await _host.GetAsync("/ca_certificates")).Body!["data"]!.AsArray());
        Assert.Equal(64, ((string)ca!["cert_digest"]!).Length);
        var config = _host.Publisher.Current;
        Assert.Equal(Rsa.Cert, Assert.Single(config.Certificates).Cert);
        Assert.Equal(3, config.Snis.Length);
        Assert.Equal((string)ca["cert_digest"]!, Assert.Single(config.CaCertificates).CertDigest);
    }

    [Fact]
    public async Task The_export_holds_every_field_and_loads_back_unchanged()
    {
        var before = await SnapshotAsync();
        var yaml = (string)(await _host.GetAsync("/config")).Body!["config"]!;
        foreach (var expected in new[] { "cert_digest:", "ca_certificates:", "snis:", "*.example.test", CertId })
            Assert.Contains(expected, yaml);

        var (status, body) = await _host.SendRawAsync(HttpMethod.Post, "/config", Encoding.UTF8.GetBytes(yaml), "application/x-yaml");
        Assert.True(status == 201, body?.ToJsonString());
        Assert.Equal(before, await SnapshotAsync());
    }

    [Fact]
    public async Task A_bad_nested_sni_or_a_mismatched_key_fails_the_whole_file()
    {
        var bad = Config();
        bad["certificates"]![0]!["snis"]!.AsArray().Add(new JsonObject { ["name"] = "a.*.test" });
        bad["certificates"]![0]!["key"] = TestCertificates.Rsa("CN=other").Key;
        var (status, body) = await _host.SendAsync(HttpMethod.Post, "/config?flatten_errors=1", bad.ToJsonString());
        Assert.Equal(400, status);
        var errors = body!["flattened_errors"]!.AsArray();
        Assert.Contains(errors, e => (string?)e!["entity_type"] == "sni"
            && e["errors"]!.AsArray().Any(x => (string?)x!["message"] == "wildcard must be leftmost or rightmost character"));
        Assert.Contains(errors, e => (string?)e!["entity_type"] == "certificate"
            && e["errors"]!.AsArray().Any(x => (string?)x!["message"] == "certificate does not match key"));
        Assert.Equal(3, (await _host.GetAsync("/snis")).Body!["data"]!.AsArray().Count); // the running configuration is kept
    }

    private async Task<string> SnapshotAsync()
    {
        var parts = new List<string>();
        foreach (var path in new[] { "/certificates", "/snis", "/ca_certificates" })
            parts.Add((await _host.GetAsync(path)).Body!["data"]!.ToJsonString());
        return string.Join("\n", parts);
    }
}
