using System.Text.Json.Nodes;
using Gatehouse.Tests.Store;

namespace Gatehouse.Tests.Admin;

public class ServicesApiTests : AdminStoreTests
{
    [Fact]
    public async Task Create_get_patch_put_delete_round_trip()
    {
        var (status, created) = await _host.PostAsync("/services", new { name = "svc", url = "https://example.com:8443/api" });
        Assert.Equal(201, status);
        Assert.Equal("https", (string?)created!["protocol"]);
        Assert.Equal("example.com", (string?)created["host"]);
        Assert.Equal(8443, (int)created["port"]!);
        Assert.Equal("/api", (string?)created["path"]);
        Assert.Equal(5, (int)created["retries"]!);
        Assert.Equal(60000, (int)created["read_timeout"]!);
        Assert.True(created.AsObject().ContainsKey("tags"));
        Assert.Null(created["tags"]);
        var id = (string)created["id"]!;

        var (getStatus, byName) = await _host.GetAsync("/services/svc");
        Assert.Equal(200, getStatus);
        Assert.Equal(id, (string?)byName!["id"]);
        Assert.Equal(id, (string?)(await _host.GetAsync($"/services/{id}")).Body!["id"]);

        var (patchStatus, patched) = await _host.SendAsync(HttpMethod.Patch, $"/services/{id}", new { retries = 2, tags = new[] { "a", "b", "a" } });
        Assert.Equal(200, patchStatus);
        Assert.Equal(2, (int)patched!["retries"]!);
        Assert.Equal("example.com", (string?)patched["host"]);
        Assert.Equal(["a", "b"], patched["tags"]!.AsArray().Select(t => (string)t!));

        var (putStatus, put) = await _host.SendAsync(HttpMethod.Put, "/services/svc", new { host = "other.test" });
        Assert.Equal(200, putStatus);
        Assert.Equal(id, (string?)put!["id"]);
        Assert.Equal("other.test", (string?)put["host"]);
        Assert.Equal(5, (int)put["retries"]!); // PUT replaces: defaults again
        Assert.Equal((long)created["created_at"]!, (long)put["created_at"]!);

        Assert.Equal(204, (await _host.SendAsync(HttpMethod.Delete, "/services/svc")).Status);
        Assert.Equal(404, (await _host.GetAsync($"/services/{id}")).Status);
        Assert.Equal(204, (await _host.SendAsync(HttpMethod.Delete, "/services/svc")).Status);
    }

    [Fact]
    public async Task Put_by_name_creates_then_updates()
    {
        var (s1, first) = await _host.SendAsync(HttpMethod.Put, "/services/upserted", new { host = "a.test" });
        Assert.Equal(200, s1);
        Assert.Equal("upserted", (string?)first!["name"]);
        var (s2, second) = await _host.SendAsync(HttpMethod.Put, "/services/upserted", new { host = "b.test", port = 8080 });
        Assert.Equal(200, s2);
        Assert.Equal((string?)first["id"], (string?)second!["id"]);
        Assert.Equal("b.test", (string?)second["host"]);
        var (_, list) = await _host.GetAsync("/services");
        Assert.Single(list!["data"]!.AsArray());
    }

    [Fact]
    public async Task Put_by_id_creates_with_that_id()
    {
        var id = Guid.NewGuid().ToString();
        var (status, body) = await _host.SendAsync(HttpMethod.Put, $"/services/{id}", new { host = "a.test" });
        Assert.Equal(200, status);
        Assert.Equal(id, (string?)body!["id"]);
    }

    [Fact]
    public async Task Unknown_field_wrong_type_missing_required()
    {
        var (status, body) = await _host.PostAsync("/services", new { host = "a.test", port = "eighty", colour = "red" });
        Assert.Equal(400, status);
        Assert.Equal(2, (int)body!["code"]!);
        Assert.Equal("schema violation", (string?)body["name"]);
        Assert.Equal("expected an integer", (string?)body["fields"]!["port"]);
        Assert.Equal("unknown field", (string?)body["fields"]!["colour"]);
        Assert.Equal("2 schema violations (colour: unknown field; port: expected an integer)", (string?)body["message"]);

        var (s2, missing) = await _host.PostAsync("/services", new { name = "x" });
        Assert.Equal(400, s2);
        Assert.Equal("schema violation (host: required field missing)", (string?)missing!["message"]);
        Assert.Equal("required field missing", (string?)missing["fields"]!["host"]);
    }

    [Theory]
    [InlineData("""{"host":"a.test","port":70000}""", "port", "value should be between 0 and 65535")]
    [InlineData("""{"host":"a.test","id":"not-a-uuid"}""", "id", "expected a valid UUID")]
    [InlineData("""{"host":"a.test","protocol":"ftp"}""", "protocol", "expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp, ws, wss")]
    [InlineData("""{"host":"a.test","path":"api"}""", "path", "should start with: /")]
    [InlineData("""{"host":"a.test","path":"/a//b"}""", "path", "must not have empty segments")]
    [InlineData("""{"host":"a.test","path":"/a b"}""", "path", "invalid path: '/a b' (characters outside of the reserved list of RFC 3986 found)")]
    [InlineData("""{"host":"a.test","path":"/a%2"}""", "path", "invalid url-encoded value: '%2'")]
    [InlineData("""{"host":"a.test","name":"bad name"}""", "name", "invalid value 'bad name': the only accepted ascii characters are alphanumerics or ., -, _, and ~")]
    [InlineData("""{"host":"a.test:80"}""", "host", "must not have a port")]
    [InlineData("""{"host":"a.test","enabled":"yes"}""", "enabled", "expected a boolean")]
    [InlineData("""{"host":"a.test","connect_timeout":0}""", "connect_timeout", "value should be between 1 and 2147483646")]
    [InlineData("""{"host":"a.test","protocol":"grpc","path":"/x"}""", "path", "value must be null")]
    [InlineData("""{"host":"a.test","protocol":"tcp"}""", "protocol", "stream services are not supported by Gatehouse (it has no TCP/TLS/UDP proxy)")]
    [InlineData("""{"url":"tls://a.test:5432"}""", "protocol", "stream services are not supported by Gatehouse (it has no TCP/TLS/UDP proxy)")]
    [InlineData("""{"host":"a.test","protocol":"udp"}""", "protocol", "stream services are not supported by Gatehouse (it has no TCP/TLS/UDP proxy)")]
    [InlineData("""{"host":"a.test","protocol":"tls_passthrough"}""", "protocol", "stream services are not supported by Gatehouse (it has no TCP/TLS/UDP proxy)")]
    [InlineData("""{"host":"a.test","protocol":"ws"}""", "protocol", "ws and wss services are not supported by Gatehouse (WebSocket upgrade requests are proxied through http and https services)")]
    [InlineData("""{"host":"a.test","protocol":"wss"}""", "protocol", "ws and wss services are not supported by Gatehouse (WebSocket upgrade requests are proxied through http and https services)")]
    [InlineData("""{"host":"a.test","tls_verify":true}""", "tls_verify", "value must be null")]
    [InlineData("""{"url":"not a url"}""", "host", "required field missing")]
    [InlineData("""{"url":"http://example.com:abc/"}""", "port", "expected an integer")]
    [InlineData("""{"url":12}""", "url", "expected a string")]
    [InlineData("""{"host":"a.test","tags":["a,b"]}""", "tags", null)]
    public async Task Field_errors_match_kong(string json, string field, string? message)
    {
        var (status, body) = await _host.SendAsync(HttpMethod.Post, "/services", json);
        Assert.Equal(400, status);
        Assert.Equal(2, (int)body!["code"]!);
        var error = body["fields"]![field];
        Assert.NotNull(error);
        if (message is not null) Assert.Equal(message, (string?)error);
        Assert.Empty((await _host.GetAsync("/services")).Body!["data"]!.AsArray());
    }

    [Fact]
    public async Task Duplicate_name_is_409_unique_violation()
    {
        Assert.Equal(201, (await _host.PostAsync("/services", new { name = "dup", host = "a.test" })).Status);
        var (status, body) = await _host.PostAsync("/services", new { name = "dup", host = "b.test" });
        Assert.Equal(409, status);
        Assert.Equal(5, (int)body!["code"]!);
        Assert.Equal("unique constraint violation", (string?)body["name"]);
        Assert.Equal("UNIQUE violation detected on '{name=\"dup\"}'", (string?)body["message"]);
        Assert.Equal("dup", (string?)body["fields"]!["name"]);
    }

    [Fact]
    public async Task Concurrent_creates_with_one_name_yield_one_winner()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => _host.PostAsync("/services", new { name = "race", host = $"h{i}.test" })));
        Assert.Single(results, r => r.Status == 201);
        Assert.Equal(15, results.Count(r => r.Status == 409));
        Assert.Single((await _host.GetAsync("/services")).Body!["data"]!.AsArray());
        Assert.Single(_host.Publisher.Current.Services);
    }

    [Fact]
    public async Task Duplicate_id_is_primary_key_violation()
    {
        var id = Guid.NewGuid().ToString();
        Assert.Equal(201, (await _host.PostAsync("/services", new { id, host = "a.test" })).Status);
        var (status, body) = await _host.PostAsync("/services", new { id, host = "b.test" });
        Assert.Equal(400, status);
        Assert.Equal(3, (int)body!["code"]!);
    }

    [Fact]
    public async Task Not_found_malformed_json_and_method_not_allowed()
    {
        var (s1, b1) = await _host.GetAsync($"/services/{Guid.NewGuid()}");
        Assert.Equal(404, s1);
        Assert.Equal("""{"message":"Not found"}""", b1!.ToJsonString());
        Assert.Equal(404, (await _host.GetAsync("/services/no-such-name")).Status);
        Assert.Equal(404, (await _host.SendAsync(HttpMethod.Patch, "/services/nope", new { retries = 1 })).Status);

        var (s2, b2) = await _host.SendAsync(HttpMethod.Post, "/services", "{\"host\": ");
        Assert.Equal(400, s2);
        Assert.Equal("""{"message":"Cannot parse JSON body"}""", b2!.ToJsonString());

        var (s3, b3) = await _host.SendAsync(HttpMethod.Delete, "/services");
        Assert.Equal(405, s3);
        Assert.Equal("""{"message":"Method not allowed"}""", b3!.ToJsonString());
        Assert.Equal(405, (await _host.SendAsync(HttpMethod.Post, "/services/x", new { })).Status);
    }

    [Fact]
    public async Task Invalid_utf8_is_rejected_and_nothing_changes()
    {
        Assert.Equal(201, (await _host.PostAsync("/services", new { name = "keep", host = "a.test" })).Status);
        byte[] raw = [.. "{\"name\":\""u8, 0xff, 0xfe, .. "\",\"host\":\"b.test\"}"u8];
        var (s1, b1) = await _host.SendRawAsync(HttpMethod.Post, "/services", raw, "application/json");
        Assert.Equal(400, s1);
        Assert.Equal("Cannot parse JSON body", (string?)b1!["message"]);

        var (s2, b2) = await _host.SendAsync(HttpMethod.Patch, "/services/keep", "{\"name\":\"\\udc80x\"}");
        Assert.Equal(400, s2);
        Assert.Equal("Cannot parse JSON body", (string?)b2!["message"]);

        var form = "name=%FF%FEbad&host=c.test"u8.ToArray();
        var (s3, b3) = await _host.SendRawAsync(HttpMethod.Post, "/services", form, "application/x-www-form-urlencoded");
        Assert.Equal(400, s3);
        Assert.StartsWith("invalid utf-8 character sequence detected at position 1", (string?)b3!["fields"]!["name"]);

        var (_, list) = await _host.GetAsync("/services");
        var only = Assert.Single(list!["data"]!.AsArray());
        Assert.Equal("keep", (string?)only!["name"]);
        Assert.Equal("a.test", (string?)only["host"]);
    }

    [Fact]
    public async Task Schema_endpoints()
    {
        var (status, schema) = await _host.GetAsync("/schemas/services");
        Assert.Equal(200, status);
        Assert.Contains(schema!["fields"]!.AsArray(), f => f!.AsObject().ContainsKey("retries"));
        Assert.Equal(404, (await _host.GetAsync("/schemas/nothing")).Status);
        var (ok, okBody) = await _host.PostAsync("/schemas/services/validate", new { host = "a.test" });
        Assert.Equal(200, ok);
        Assert.Equal("schema validation successful", (string?)okBody!["message"]);
        var (bad, badBody) = await _host.PostAsync("/schemas/routes/validate", new { protocols = new[] { "http" } });
        Assert.Equal(400, bad);
        Assert.Equal("must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'",
            (string?)badBody!["fields"]!["@entity"]![0]);
        Assert.Empty((await _host.GetAsync("/routes")).Body!["data"]!.AsArray());
    }
}

/// <summary>Every test of <see cref="ServicesApiTests"/> on PostgreSQL.</summary>
public sealed class ServicesApiTestsOnPostgres : ServicesApiTests
{
    private protected override AdminStore Store => AdminStore.Postgres;
}
