using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Admin;
using Gatehouse.Config;
using Gatehouse.Entities;
using Gatehouse.Hosting;
using Gatehouse.Store;
using Gatehouse.Store.Declarative;
using Gatehouse.Tests.Store;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Admin;

/// <summary>POST /config's 201 answer, written row by row as it goes instead of one string of the whole configuration
/// (past <see cref="ConfigEndpoints.AnswerInMemoryBytes"/> to a temporary file): the same bytes, with a Content-Length.</summary>
public sealed class ConfigEndpointAnswerTests
{
    [Fact]
    public void The_answer_is_the_bytes_one_json_object_of_the_rows_gave()
    {
        var loaded = new DeclarativeLoader(GatehouseEntities.Default, TimeProvider.System).Load(Encoding.UTF8.GetBytes(DeclarativePublishTests.VariedYaml()));
        Assert.True(loaded.IsValid);
        // what the endpoint answered before: one JsonObject of the rows by entity and id, serialized as every Admin answer
        var whole = new JsonObject();
        foreach (var (schema, rows) in loaded.Entities!)
            whole[schema.Name] = new JsonObject(rows.Select(r => KeyValuePair.Create(EntityJson.String(r, "id")!, (JsonNode?)r.DeepClone())));
        var expected = whole.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

        var written = new MemoryStream();
        ConfigEndpoints.WriteLoaded(loaded.Entities!, written);

        Assert.Equal(expected, Encoding.UTF8.GetString(written.ToArray()));
        Assert.Contains("ü-tag", expected); // unescaped, as Kong's cjson
        // a load's rows are text, written without a tree each; rows given as trees write the same bytes
        Assert.All(loaded.Entities!.Values, rows => Assert.IsType<JsonTextRows>(rows));
        var fromTrees = new MemoryStream();
        ConfigEndpoints.WriteLoaded(loaded.Entities!.ToDictionary(e => e.Key, e => (IReadOnlyList<JsonObject>)[.. e.Value]), fromTrees);
        Assert.Equal(expected, Encoding.UTF8.GetString(fromTrees.ToArray()));
    }

    [Fact]
    public async Task A_large_answer_has_its_content_length_and_every_row()
    {
        const int Routes = 4000;
        await using var host = await AdminTestHost.StartAsync(new GatehouseOptions { Database = DatabaseKind.Off });
        var yaml = new StringBuilder("_format_version: \"3.0\"\nservices:\n  - name: s\n    url: http://127.0.0.1:9/\n    routes:\n");
        for (var i = 0; i < Routes; i++) yaml.Append($"      - name: r{i}\n        paths: [\"/r{i}\"]\n        tags: [\"ü{i}\"]\n");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/config") { Content = new StringContent(yaml.ToString(), Encoding.UTF8, "application/yaml") };
        using var response = await host.Client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(201, (int)response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.True(body.Length > ConfigEndpoints.AnswerInMemoryBytes, $"{body.Length} bytes: the answer went through a file");
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        var routes = JsonNode.Parse(body)!["routes"]!.AsObject();
        Assert.Equal(Enumerable.Range(0, Routes).Select(i => $"r{i}"), routes.Select(p => (string)p.Value!["name"]!));
        Assert.All(routes, p => Assert.Equal(p.Key, (string)p.Value!["id"]!));
        Assert.Equal(Routes, host.Publisher.Current.Routes.Length);
    }

    /// <summary>The answer is written from the validated rows before they are stored: a record that fails late in a large
    /// file still means no answer but the error, and the previous configuration stays (served, stored, hashed).</summary>
    [Fact]
    public async Task A_bad_record_at_the_end_of_a_large_file_leaves_the_previous_configuration()
    {
        using var dir = new TempDir();
        const string previous = "_format_version: \"3.0\"\nservices:\n  - name: old\n    url: http://127.0.0.1:9/\n    routes:\n      - name: keep\n        paths: [\"/keep\"]\n";
        await using var host = await AdminTestHost.StartDbLessAsync(previous, dir);
        var declarative = host.Services.GetRequiredService<DeclarativeConfigService>();
        var (version, hash) = (host.Publisher.Current.Version, declarative.ConfigurationHash);
        var yaml = new StringBuilder("_format_version: \"3.0\"\nservices:\n  - name: s\n    url: http://127.0.0.1:9/\n    routes:\n");
        for (var i = 0; i < 3000; i++) yaml.Append($"      - name: r{i}\n        paths: [\"/r{i}\"]\n");
        yaml.Append("      - name: last\n        paths: [\"/last\"]\n        methods: 7\n");

        var (status, body) = await host.SendRawAsync(HttpMethod.Post, "/config?flatten_errors=1", Encoding.UTF8.GetBytes(yaml.ToString()), "application/yaml");

        Assert.Equal(400, status);
        var flattened = Assert.Single(body!["flattened_errors"]!.AsArray())!;
        Assert.Equal("last", (string?)flattened["entity_name"]);
        Assert.Equal("methods", (string?)Assert.Single(flattened["errors"]!.AsArray())!["field"]);
        Assert.Equal(version, host.Publisher.Current.Version);
        Assert.Equal(["keep"], host.Publisher.Current.Routes.Select(r => r.Name));
        Assert.Equal(hash, declarative.ConfigurationHash);
        var (listed, routes) = await host.GetAsync("/routes");
        Assert.Equal(200, listed);
        Assert.Equal(["keep"], routes!["data"]!.AsArray().Select(r => (string)r!["name"]!));

        // the same file without the bad record loads whole
        yaml.Length -= "        methods: 7\n".Length;
        Assert.Equal(201, (await host.SendRawAsync(HttpMethod.Post, "/config", Encoding.UTF8.GetBytes(yaml.ToString()), "application/yaml")).Status);
        Assert.Equal(3001, host.Publisher.Current.Routes.Length);
    }
}
