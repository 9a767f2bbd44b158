using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Entities.Schemas;
using Gatehouse.Store.Declarative;
using Microsoft.Extensions.DependencyInjection;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Wasm;

namespace Gatehouse.Tests.Admin;

/// <summary><c>POST/GET /config</c> as Kong 3.9 answers them (kong/api/routes/config.lua): no configuration,
/// <c>check_hash</c>, the error shapes, and credentials through <c>_transform</c> on the real DB-less gateway.</summary>
public sealed class ConfigEndpointKongTests : IAsyncLifetime
{
    private const string Services = """
        _format_version: "3.0"
        services:
          - name: a
            host: a.test
        """;

    private AdminTestHost _host = null!;

    public async Task InitializeAsync() => _host = await AdminTestHost.StartAsync(new GatehouseOptions { Database = DatabaseKind.Off });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private Task<(int Status, JsonNode? Body)> PostYaml(string path, string yaml) =>
        _host.SendRawAsync(HttpMethod.Post, path, Encoding.UTF8.GetBytes(yaml), "application/yaml");

    [Theory]
    [InlineData(null)]
    [InlineData("application/yaml")]
    public async Task No_configuration_is_400_expected_a_declarative_configuration(string? contentType)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/config") { Content = new ByteArrayContent([]) };
        if (contentType is not null) request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        var (status, body) = await _host.SendAsync(request);
        Assert.Equal(400, status);
        Assert.Equal("""{"message":"expected a declarative configuration"}""", body!.ToJsonString());
    }

    /// <summary>The hash /status reports DB-less (the Admin test host serves no /status: it is the gateway's).</summary>
    private string LoadedHash() => _host.Services.GetRequiredService<DeclarativeConfigService>().ConfigurationHash;

    [Fact]
    public async Task Check_hash_answers_304_for_the_configuration_already_loaded()
    {
        Assert.Equal(201, (await PostYaml("/config", Services)).Status);
        var hash = LoadedHash();

        using (var same = new HttpRequestMessage(HttpMethod.Post, "/config?check_hash=1") { Content = new StringContent(Services, Encoding.UTF8, "application/yaml") })
        using (var response = await _host.Client.SendAsync(same))
        {
            Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
            Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        }
        // the same text as {"config": "..."} has the same hash
        var (asJson, _) = await _host.PostAsync("/config?check_hash=1", new JsonObject { ["config"] = Services }.ToJsonString());
        Assert.Equal(304, asJson);
        Assert.Equal(hash, LoadedHash());

        // without check_hash, or with another text, it is loaded
        Assert.Equal(201, (await PostYaml("/config", Services)).Status);
        Assert.Equal(201, (await PostYaml("/config?check_hash=1", Services + "\n    port: 8080\n")).Status);
        Assert.NotEqual(hash, LoadedHash());
    }

    [Fact]
    public async Task A_file_that_does_not_parse_is_reported_in_fields_error_even_when_flattened()
    {
        foreach (var path in new[] { "/config", "/config?flatten_errors=1" })
        {
            var (status, body) = await PostYaml(path, "_format_version: [unclosed");
            Assert.Equal(400, status);
            Assert.Equal(14, (int)body!["code"]!);
            var reason = (string)body["fields"]!["error"]!;
            Assert.StartsWith("failed parsing declarative configuration: ", reason, StringComparison.Ordinal);
            Assert.Equal($"declarative config is invalid: {{error=\"{reason}\"}}", (string?)body["message"]);
            Assert.Null(body["flattened_errors"]);
        }
    }

    [Fact]
    public async Task Duplicates_are_listed_as_Kong_lists_them()
    {
        const string expected = "uniqueness violation: 'services' entity with name set to 'a' already declared";
        var (status, body) = await PostYaml("/config", Services + "\n  - name: a\n    host: b.test\n");
        Assert.Equal(400, status);
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["services"] = new JsonArray(null, expected) }, body!["fields"]), body["fields"]!.ToJsonString());
        Assert.Equal($"declarative config is invalid: {{services={{[2]=\"{expected}\"}}}}", (string?)body["message"]);

        var (_, flat) = await PostYaml("/config?flatten_errors=1", Services + "\n  - name: a\n    host: b.test\n");
        Assert.Empty(flat!["fields"]!.AsObject());
        var item = Assert.Single(flat["flattened_errors"]!.AsArray())!;
        Assert.True(JsonNode.DeepEquals(new JsonArray(new JsonObject { ["type"] = "entity", ["message"] = expected }), item["errors"]),
            item["errors"]!.ToJsonString());
    }

    [Fact]
    public async Task Options_in_a_configuration_sent_as_the_JSON_body_are_read_and_taken_out()
    {
        // Kong reads check_hash/flatten_errors from its merged parameters: in the body they are options, not fields
        var body = """{"_format_version":"3.0","flatten_errors":"yes","services":[{"name":"a","port":99999,"host":"a.test"}]}""";
        var (status, error) = await _host.PostAsync("/config", body);
        Assert.Equal(400, status);
        Assert.Empty(error!["fields"]!.AsObject());
        var item = Assert.Single(error["flattened_errors"]!.AsArray())!;
        Assert.Equal("port", (string?)Assert.Single(item["errors"]!.AsArray())!["field"]);
        Assert.Equal(201, (await _host.PostAsync("/config", """{"_format_version":"3.0","check_hash":"1","services":[]}""")).Status);
    }

    [Fact]
    public async Task Plaintext_passwords_log_in_and_the_export_reimports_to_the_same_state()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gw = await WasmGateway.StartAsync(dbless: true, wasm: false);
        var yaml = $"""
            _format_version: "3.0"
            services:
              - name: s
                url: http://127.0.0.1:{upstream.Port}
                routes:
                  - name: r
                    paths: [/secure]
                    plugins:
                      - name: basic-auth
            consumers:
              - username: alice
                basicauth_credentials:
                  - username: alice
                    password: open-sesame
            """;
        var (status, loaded) = await gw.PostAsync("/config", new JsonObject { ["config"] = yaml }.ToJsonString());
        Assert.True(status == 201, loaded?.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, await Login(gw, "alice:open-sesame"));
        Assert.Equal(HttpStatusCode.Unauthorized, await Login(gw, "alice:wrong"));

        var consumerId = Guid.Parse((string)loaded!["consumers"]!.AsObject().Single().Value!["id"]!);
        var hash = BasicAuthCredentialEntity.Hash("open-sesame", consumerId);
        var exported = (string)(await gw.GetAsync("/config")).Body!["config"]!;
        Assert.Contains("_transform: false", exported, StringComparison.Ordinal);
        Assert.Contains(hash, exported, StringComparison.Ordinal);
        Assert.DoesNotContain("open-sesame", exported, StringComparison.Ordinal);

        var (again, reloaded) = await gw.PostAsync("/config", new JsonObject { ["config"] = exported }.ToJsonString());
        Assert.True(again == 201, reloaded?.ToJsonString());
        Assert.Equal(hash, (string)reloaded!["basicauth_credentials"]!.AsObject().Single().Value!["password"]!);
        Assert.Equal(HttpStatusCode.OK, await Login(gw, "alice:open-sesame"));
    }

    private static async Task<HttpStatusCode> Login(WasmGateway gw, string userPassword)
    {
        using var request = ProxyRequests.Get("/secure");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(userPassword)));
        using var response = await gw.Proxy.SendAsync(request);
        return response.StatusCode;
    }
}
