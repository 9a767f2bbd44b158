using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Admin;
using Gatehouse.Config;
using Gatehouse.Entities;
using Gatehouse.Hosting;
using Gatehouse.Store.Declarative;
using Gatehouse.Tests.Store;

namespace Gatehouse.Tests.Admin;

/// <summary>POST /config's 201 answer, written row by row into segments instead of one string of the whole
/// configuration: the same bytes, with a Content-Length, however many segments it takes.</summary>
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

        var written = new ArrayBufferWriter<byte>();
        ConfigEndpoints.WriteLoaded(loaded.Entities!, written);

        Assert.Equal(expected, Encoding.UTF8.GetString(written.WrittenSpan));
        Assert.Contains("ü-tag", expected); // unescaped, as Kong's cjson
    }

    [Fact]
    public async Task A_large_answer_has_its_content_length_and_every_row()
    {
        await using var host = await AdminTestHost.StartAsync(new GatehouseOptions { Database = DatabaseKind.Off });
        var yaml = new StringBuilder("_format_version: \"3.0\"\nservices:\n  - name: s\n    url: http://127.0.0.1:9/\n    routes:\n");
        for (var i = 0; i < 600; i++) yaml.Append($"      - name: r{i}\n        paths: [\"/r{i}\"]\n        tags: [\"ü{i}\"]\n");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/config") { Content = new StringContent(yaml.ToString(), Encoding.UTF8, "application/yaml") };
        using var response = await host.Client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(201, (int)response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.True(body.Length > 3 * (64 << 10), $"{body.Length} bytes: the answer spans several segments");
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        var routes = JsonNode.Parse(body)!["routes"]!.AsObject();
        Assert.Equal(Enumerable.Range(0, 600).Select(i => $"r{i}"), routes.Select(p => (string)p.Value!["name"]!));
        Assert.All(routes, p => Assert.Equal(p.Key, (string)p.Value!["id"]!));
        Assert.Equal(600, host.Publisher.Current.Routes.Length);
    }
}
