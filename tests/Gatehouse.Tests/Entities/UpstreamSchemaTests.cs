using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Entities.Schemas;
using Gatehouse.Hosting;

namespace Gatehouse.Tests.Entities;

/// <summary>Kong 3.9's upstreams and targets schemas: defaults, Kong's errors and entity checks, target normalisation,
/// and the refusals of what Gatehouse does not implement yet.</summary>
public sealed class UpstreamSchemaTests
{
    private static readonly EntitySchema Upstreams = GatehouseEntities.Default.ByName("upstreams")!;
    private static readonly EntitySchema Targets = GatehouseEntities.Default.ByName("targets")!;

    private static ValidationResult Validate(EntitySchema schema, string json) =>
        EntityValidator.Validate(schema, JsonNode.Parse(json)!.AsObject(), ValidationContext.Insert);

    [Fact]
    public void An_upstream_gets_Kongs_defaults_with_health_checks_off()
    {
        var result = Validate(Upstreams, """{"name":"backend.test"}""");
        Assert.True(result.IsValid, result.Errors?.ToJsonString());
        var e = result.Entity!;
        Assert.Equal("round-robin", (string?)e["algorithm"]);
        Assert.Equal("none", (string?)e["hash_on"]);
        Assert.Equal("none", (string?)e["hash_fallback"]);
        Assert.Equal("/", (string?)e["hash_on_cookie_path"]);
        Assert.Equal(10000, (long)e["slots"]!);
        Assert.False((bool)e["use_srv_name"]!);
        var hc = e["healthchecks"]!;
        Assert.Equal(0, hc["threshold"]!.GetValue<double>());
        Assert.Equal("http", (string?)hc["active"]!["type"]);
        Assert.Equal(1, (double)hc["active"]!["timeout"]!);
        Assert.Equal(10, (long)hc["active"]!["concurrency"]!);
        Assert.Equal("/", (string?)hc["active"]!["http_path"]);
        Assert.True((bool)hc["active"]!["https_verify_certificate"]!);
        Assert.Equal("[200,302]", hc["active"]!["healthy"]!["http_statuses"]!.ToJsonString());
        Assert.Equal("[429,404,500,501,502,503,504,505]", hc["active"]!["unhealthy"]!["http_statuses"]!.ToJsonString());
        Assert.Equal(0, (double)hc["active"]!["unhealthy"]!["interval"]!);
        Assert.Equal("[429,500,503]", hc["passive"]!["unhealthy"]!["http_statuses"]!.ToJsonString());
        Assert.Equal(19, hc["passive"]!["healthy"]!["http_statuses"]!.AsArray().Count);
        Assert.Equal(0, (long)hc["passive"]!["unhealthy"]!["tcp_failures"]!);
        Assert.Empty(UpstreamHealthchecks.EnabledBy(hc));
    }

    [Theory]
    [InlineData("""{"name":"10.0.0.1"}""", "name", "Invalid name ('10.0.0.1'); no ip addresses allowed")]
    [InlineData("""{"name":"a.test:80"}""", "name", "Invalid name ('a.test:80'); no port allowed")]
    [InlineData("""{"name":"bad name"}""", "name", "Invalid name ('bad name'); must be a valid hostname")]
    [InlineData("""{"name":"u","algorithm":"fastest"}""", "algorithm", "expected one of: consistent-hashing, least-connections, round-robin, latency")]
    [InlineData("""{"name":"u","slots":9}""", "slots", "value should be between 10 and 65536")]
    [InlineData("""{"name":"u","healthchecks":{"active":{"timeout":70000}}}""", "healthchecks", null)]
    [InlineData("""{"name":"u","healthchecks":{"passive":{"unhealthy":{"tcp_failures":256}}}}""", "healthchecks", null)]
    [InlineData("""{"name":"u","healthchecks":{"active":{"healthy":{"http_statuses":[99]}}}}""", "healthchecks", null)]
    public void Bad_upstream_fields_get_Kongs_errors(string json, string field, string? message)
    {
        var result = Validate(Upstreams, json);
        Assert.False(result.IsValid);
        Assert.NotNull(result.Errors![field]);
        if (message is not null) Assert.Equal(message, (string?)result.Errors[field]);
    }

    [Fact]
    public void Healthcheck_bounds_are_reported_where_they_fail()
    {
        var result = Validate(Upstreams, """{"name":"u","healthchecks":{"active":{"timeout":70000,"unhealthy":{"http_failures":256}}}}""");
        Assert.Equal("value should be between 0 and 65535", (string?)result.Errors!["healthchecks"]!["active"]!["timeout"]);
        Assert.Equal("value should be between 0 and 255", (string?)result.Errors!["healthchecks"]!["active"]!["unhealthy"]!["http_failures"]);
    }

    /// <summary>Kong's conditional checks; hash_on itself is refused afterwards (hash keys are not computed yet), so
    /// the fields Kong requires are still reported first.</summary>
    [Theory]
    [InlineData("""{"name":"u","hash_on":"header"}""", "hash_on_header", "required field missing")]
    [InlineData("""{"name":"u","hash_on":"cookie"}""", "hash_on_cookie", "required field missing")]
    [InlineData("""{"name":"u","hash_on":"query_arg"}""", "hash_on_query_arg", "required field missing")]
    [InlineData("""{"name":"u","hash_on":"uri_capture"}""", "hash_on_uri_capture", "required field missing")]
    [InlineData("""{"name":"u","hash_fallback":"ip"}""", "hash_fallback", "expected one of: none")]
    [InlineData("""{"name":"u","hash_on":"ip","hash_fallback":"ip"}""", "hash_fallback", "expected one of: none, consumer, header, cookie, path, query_arg, uri_capture")]
    [InlineData("""{"name":"u","hash_on":"cookie","hash_on_cookie":"c","hash_fallback":"ip"}""", "hash_fallback", "expected one of: none")]
    [InlineData("""{"name":"u","hash_on_header":"x-a","hash_fallback_header":"x-a"}""", "@entity", null)]
    [InlineData("""{"name":"u","hash_on_header":"bad header"}""", "hash_on_header", "bad header name 'bad header', allowed characters are A-Z, a-z, 0-9, '_', and '-'")]
    public void Kongs_hash_checks(string json, string field, string? message)
    {
        var result = Validate(Upstreams, json);
        Assert.False(result.IsValid);
        var error = result.Errors![field];
        Assert.NotNull(error);
        if (message is not null) Assert.Equal(message, (string?)error);
        else Assert.Equal("values of these fields must be distinct: 'hash_on_header', 'hash_fallback_header'", (string?)error![0]);
    }

    /// <summary>Kong's shorthands: hash_on other than none means consistent-hashing, none means round-robin,
    /// least-connections resets hash_on.</summary>
    [Fact]
    public void Hash_on_sets_the_algorithm_as_Kongs_shorthand_does()
    {
        var schema = UpstreamEntity.Create(_ => true);
        var hashed = EntityValidator.Validate(schema, JsonNode.Parse("""{"name":"u","hash_on":"ip"}""")!.AsObject(), ValidationContext.Insert);
        Assert.Equal("consistent-hashing", (string?)hashed.Entity?["algorithm"]);
        var none = EntityValidator.Validate(schema, JsonNode.Parse("""{"name":"u","algorithm":"consistent-hashing","hash_on":"none"}""")!.AsObject(), ValidationContext.Insert);
        Assert.Equal("round-robin", (string?)none.Entity?["algorithm"]);
        var lc = EntityValidator.Validate(schema, JsonNode.Parse("""{"name":"u","algorithm":"least-connections"}""")!.AsObject(), ValidationContext.Insert);
        Assert.Equal("none", (string?)lc.Entity?["hash_on"]);
    }

    [Theory]
    [InlineData("""{"name":"u","healthchecks":{"active":{"type":"grpcs","healthy":{"interval":5}}}}""", "healthchecks", "not supported by Gatehouse yet: health checks of active.type 'grpcs'")]
    [InlineData("""{"name":"u","use_srv_name":true}""", "use_srv_name", "not supported by Gatehouse: the Host header sent to an SRV target would be the record's target name; not implemented")]
    public void What_Gatehouse_does_not_do_yet_is_refused_naming_the_field(string json, string field, string message)
    {
        var result = Validate(Upstreams, json);
        Assert.False(result.IsValid);
        Assert.Equal(message, (string?)result.Errors![field]);
    }

    /// <summary>The host says which algorithms the balancers implement (Hosting asks BalancerFactory); the others are
    /// refused, never stored and served round-robin.</summary>
    [Fact]
    public void An_algorithm_the_balancers_lack_is_refused()
    {
        var schema = UpstreamEntity.Create(a => a == "round-robin");
        var result = EntityValidator.Validate(schema, JsonNode.Parse("""{"name":"u","algorithm":"latency"}""")!.AsObject(), ValidationContext.Insert);
        Assert.Equal("not supported by Gatehouse yet: algorithm 'latency' (the balancer is not implemented)", (string?)result.Errors?["algorithm"]);
        foreach (var algorithm in UpstreamEntity.Algorithms)
            Assert.True(Validate(Upstreams, $$"""{"name":"u","algorithm":"{{algorithm}}"}""").IsValid, algorithm);
    }

    [Theory]
    [InlineData("10.0.0.1", "10.0.0.1:8000")]
    [InlineData("010.000.000.001:81", "10.0.0.1:81")]
    [InlineData("backend.test", "backend.test:8000")]
    [InlineData("backend.test:9000", "backend.test:9000")]
    [InlineData("::1", "[0000:0000:0000:0000:0000:0000:0000:0001]:8000")]
    [InlineData("[::1]:81", "[0000:0000:0000:0000:0000:0000:0000:0001]:81")]
    public void A_target_is_stored_as_Kong_normalises_it(string target, string stored)
    {
        Assert.Null(Validate(Targets, $$"""{"upstream":{"id":"0c2f4e6a-8b0d-4f1e-9a3c-5b7d9e1f2a4c"},"target":"{{target}}"}""").Errors);
        Assert.Equal(stored, TargetEntity.Format(target));
    }

    [Theory]
    [InlineData("""{"target":"a.test:1","weight":65536}""", "weight", "value should be between 0 and 65535")]
    [InlineData("""{"target":"a.test:1","weight":-1}""", "weight", "value should be between 0 and 65535")]
    [InlineData("""{"target":"bad host!"}""", "target", "Invalid target ('bad host!'); not a valid hostname or ip address")]
    [InlineData("""{"target":"a.test:70000"}""", "target", "Invalid target ('a.test:70000'); not a valid hostname or ip address")]
    [InlineData("""{"target":"300.1.1.1"}""", "target", "Invalid target ('300.1.1.1'); not a valid hostname or ip address")]
    public void Bad_targets_get_Kongs_errors(string json, string field, string message)
    {
        var input = JsonNode.Parse(json)!.AsObject();
        input["upstream"] = new JsonObject { ["id"] = "0c2f4e6a-8b0d-4f1e-9a3c-5b7d9e1f2a4c" };
        var result = EntityValidator.Validate(Targets, input, ValidationContext.Insert);
        Assert.Equal(message, (string?)result.Errors?[field]);
    }

    /// <summary>Kong: targets carry auto_timestamp_ms (seconds with milliseconds), other entities whole seconds.</summary>
    [Fact]
    public void Target_timestamps_have_milliseconds()
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123);
        Assert.Equal(1700000000.123, Gatehouse.Store.AutoTimestamp.For(Targets, "created_at", at).GetValue<double>());
        Assert.Equal(1700000000, Gatehouse.Store.AutoTimestamp.For(Upstreams, "created_at", at).GetValue<long>());
        Assert.Equal(1700000000.5, Gatehouse.Store.AutoTimestamp.NotBefore(Targets, "updated_at", at, 1700000000.5).GetValue<double>());
    }

    [Fact]
    public void A_target_weighs_100_by_default()
    {
        var result = Validate(Targets, """{"upstream":{"id":"0c2f4e6a-8b0d-4f1e-9a3c-5b7d9e1f2a4c"},"target":"a.test"}""");
        Assert.Equal(100, (long)result.Entity!["weight"]!);
    }
}
