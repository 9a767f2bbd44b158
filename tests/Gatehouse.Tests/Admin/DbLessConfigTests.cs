using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;

using Gatehouse.Tests.Store;

namespace Gatehouse.Tests.Admin;

public sealed class DbLessConfigTests : IAsyncLifetime
{
    private const string GoodYaml = """
        _format_version: "3.0"
        services:
          - name: billing
            url: http://billing.internal:8080/v1
            tags: [team-a]
            routes:
              - name: billing-route
                paths: [/billing]
        routes:
          - name: top-route
            service: billing
            hosts: ["*.example.com"]
        """;

    private readonly TempDir _dir = new();
    private AdminTestHost _host = null!;

    public async Task InitializeAsync() => _host = await AdminTestHost.StartDbLessAsync(GoodYaml, _dir);

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Startup_file_is_loaded_and_published()
    {
        var (_, services) = await _host.GetAsync("/services");
        Assert.Equal("billing", (string?)Assert.Single(services!["data"]!.AsArray())!["name"]);
        var config = _host.Publisher.Current;
        Assert.True(config.Version >= 1);
        Assert.Equal("billing.internal", Assert.Single(config.Services).Host);
        Assert.Equal(2, config.Routes.Length);
        Assert.All(config.Routes, r => Assert.Equal(config.Services[0].Id, r.ServiceId));
        Assert.Equal(200, (await _host.GetAsync("/routes/top-route/service")).Status);
    }

    [Fact]
    public async Task Writes_are_405_operation_unsupported()
    {
        var (status, body) = await _host.PostAsync("/services", new { host = "x.test" });
        Assert.Equal(405, status);
        Assert.Equal(12, (int)body!["code"]!);
        Assert.Equal("operation unsupported", (string?)body["name"]);
        Assert.Equal("cannot create 'services' entities when not using a database", (string?)body["message"]);
        Assert.Equal(3, body.AsObject().Count);
        Assert.Equal("cannot update 'services' entities when not using a database",
            (string?)(await _host.SendAsync(HttpMethod.Patch, "/services/billing", new { retries = 1 })).Body!["message"]);
        Assert.Equal("cannot delete 'routes' entities when not using a database",
            (string?)(await _host.SendAsync(HttpMethod.Delete, "/routes/top-route")).Body!["message"]);
    }

    [Fact]
    public async Task Post_config_replaces_everything_and_publishes()
    {
        var before = _host.Publisher.Current.Version;
        const string yaml = """
            _format_version: "3.0"
            services:
              - name: other
                host: other.test
            """;
        var (status, body) = await _host.SendRawAsync(HttpMethod.Post, "/config", Encoding.UTF8.GetBytes(yaml), "text/yaml");
        Assert.Equal(201, status);
        Assert.Single(body!["services"]!.AsObject());
        var (_, services) = await _host.GetAsync("/services");
        Assert.Equal("other", (string?)Assert.Single(services!["data"]!.AsArray())!["name"]);
        Assert.Empty((await _host.GetAsync("/routes")).Body!["data"]!.AsArray());
        var config = _host.Publisher.Current;
        Assert.True(config.Version > before);
        Assert.Equal("other.test", Assert.Single(config.Services).Host);
        Assert.Empty(config.Routes);
    }

    [Fact]
    public async Task Bad_config_changes_nothing_and_reports_flattened_errors()
    {
        var before = _host.Publisher.Current;
        var bad = new JsonObject
        {
            ["config"] = """
                _format_version: "3.0"
                services:
                  - name: broken
                    port: 99999
                    routes:
                      - name: r
                        paths: [nope]
                """,
        };
        var (status, body) = await _host.SendAsync(HttpMethod.Post, "/config?flatten_errors=1", bad.ToJsonString());
        Assert.Equal(400, status);
        Assert.Equal(14, (int)body!["code"]!);
        Assert.Equal("invalid declarative configuration", (string?)body["name"]);
        var flattened = body["flattened_errors"]!.AsArray();
        var service = flattened.Single(e => (string?)e!["entity_type"] == "service")!;
        Assert.Equal("broken", (string?)service["entity_name"]);
        Assert.Contains(service["errors"]!.AsArray(), e => (string?)e!["field"] == "port" && (string?)e["message"] == "value should be between 0 and 65535");
        Assert.Contains(service["errors"]!.AsArray(), e => (string?)e!["field"] == "host" && (string?)e["message"] == "required field missing");
        var route = flattened.Single(e => (string?)e!["entity_type"] == "route")!;
        Assert.Contains(route["errors"]!.AsArray(), e => (string?)e!["field"] == "paths.1");
        Assert.Empty(body["fields"]!.AsObject());

        var (s2, unflattened) = await _host.SendAsync(HttpMethod.Post, "/config", bad.ToJsonString());
        Assert.Equal(400, s2);
        Assert.Null(unflattened!["flattened_errors"]);
        Assert.Equal("required field missing", (string?)unflattened["fields"]!["services"]![0]!["host"]);
        Assert.NotNull(unflattened["fields"]!["services"]![0]!["routes"]![0]!["paths"]);

        var (s3, _) = await _host.SendRawAsync(HttpMethod.Post, "/config", "_format_version: [unclosed"u8.ToArray(), "text/yaml");
        Assert.Equal(400, s3);
        var (s4, _) = await _host.SendRawAsync(HttpMethod.Post, "/config", [.. "_format_version: \"3.0\"\nservices:\n  - name: \""u8, 0xff, .. "\"\n    host: a\n"u8], "text/yaml");
        Assert.Equal(400, s4);

        Assert.Same(before, _host.Publisher.Current);
        var (_, services) = await _host.GetAsync("/services");
        Assert.Equal("billing", (string?)Assert.Single(services!["data"]!.AsArray())!["name"]);
    }

    [Fact]
    public async Task Get_config_exports_yaml_that_loads_back()
    {
        var (status, body) = await _host.GetAsync("/config");
        Assert.Equal(200, status);
        var yaml = (string)body!["config"]!;
        Assert.Contains("_format_version", yaml);
        Assert.Contains("billing-route", yaml);
        var ids = (await _host.GetAsync("/routes")).Body!["data"]!.AsArray().Select(r => (string)r!["id"]!).Order().ToList();

        var (s2, _) = await _host.SendRawAsync(HttpMethod.Post, "/config", Encoding.UTF8.GetBytes(yaml), "application/x-yaml");
        Assert.Equal(201, s2);
        var after = (await _host.GetAsync("/routes")).Body!["data"]!.AsArray().Select(r => (string)r!["id"]!).Order().ToList();
        Assert.Equal(ids, after);
    }

    [Fact]
    public async Task Root_reports_database_off()
    {
        // /status (configuration_hash, no database) is the host's: Hosting/StatusTests
        var (rs, root) = await _host.GetAsync("/");
        Assert.Equal(200, rs);
        Assert.Equal("off", (string?)root!["configuration"]!["database"]);
    }
}
