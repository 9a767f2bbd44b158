using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Entities;
using Gatehouse.Hosting;

namespace Gatehouse.Tests.Entities;

/// <summary>The schema engine's side of vault references: a plugin's referenceable config fields (http-log's
/// <c>http_endpoint</c> and header values, found through the plugin's own config schema) accept references and resolve
/// on a copy; the same text in a field Kong does not mark is validated as a value.</summary>
public sealed class ReferenceResolverTests
{
    private static readonly EntityRegistry Registry = GatehouseEntities.Default;

    [Fact]
    public void Http_log_endpoint_and_header_values_resolve_on_a_copy_and_other_fields_keep_the_text()
    {
        var plugins = Registry.ByName("plugins")!;
        var input = JsonNode.Parse("""
            {"name":"http-log","config":{"http_endpoint":"{vault://env/log-url}",
             "headers":{"Authorization":"{vault://env/log-auth}"},"content_type":"application/json"}}
            """)!.AsObject();
        var validated = EntityValidator.Validate(plugins, input, ValidationContext.Insert);
        Assert.True(validated.IsValid, validated.Errors?.ToJsonString());
        var row = validated.Entity!;
        row["id"] = Guid.NewGuid().ToString();
        var env = new Dictionary<string, string> { ["LOG_URL"] = "http://logs.test/in", ["LOG_AUTH"] = "Bearer t0ken" };
        var failures = new List<UnresolvedReference>();

        var resolved = ReferenceResolver.Resolve(plugins, row, new VaultResolver(n => env.GetValueOrDefault(n)), failures.Add);

        Assert.Empty(failures);
        Assert.Equal("http://logs.test/in", (string?)resolved["config"]!["http_endpoint"]);
        Assert.Equal("Bearer t0ken", (string?)resolved["config"]!["headers"]!["Authorization"]);
        Assert.Equal("{vault://env/log-url}", (string?)row["config"]!["http_endpoint"]); // the stored row is untouched
    }

    /// <summary>Not referenceable (Kong): the reference is a value like any other and checked as one.</summary>
    [Fact]
    public void A_reference_in_a_field_Kong_does_not_mark_is_validated_as_a_value()
    {
        var result = EntityValidator.Validate(Registry.ByName("plugins")!,
            JsonNode.Parse("""{"name":"cors","tags":["{vault://env/x}"]}""")!.AsObject(), ValidationContext.Insert);
        Assert.StartsWith("invalid tag '{vault://env/x}'", (string?)result.Errors!["tags"]![0]);
    }

    [Fact]
    public void A_reference_that_does_not_resolve_is_reported_with_its_field_and_becomes_empty()
    {
        var plugins = Registry.ByName("plugins")!;
        var row = EntityValidator.Validate(plugins, JsonNode.Parse("""
            {"name":"rate-limiting","config":{"minute":1,"policy":"redis","redis":{"host":"r.test","password":"{vault://env/nope}"}}}
            """)!.AsObject(), ValidationContext.Insert).Entity!;
        var failures = new List<UnresolvedReference>();
        var resolved = ReferenceResolver.Resolve(plugins, row, new VaultResolver(_ => null), failures.Add);
        Assert.Equal("", (string?)resolved["config"]!["redis"]!["password"]);
        var failure = Assert.Single(failures);
        Assert.Equal(("plugins", "config.redis.password", "{vault://env/nope}"), (failure.Entity, failure.Field, failure.Reference));
        Assert.Equal("no value found (environment variable NOPE is not set)", failure.Error);
    }
}
