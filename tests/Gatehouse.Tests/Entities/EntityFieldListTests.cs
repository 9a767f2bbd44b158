using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Hosting;
using Gatehouse.Model;
using Gatehouse.Wasm;

namespace Gatehouse.Tests.Entities;

/// <summary>
/// An entity's fields are listed once, in its schema: the typed model (<c>ToModel</c>) and the
/// <c>kong.router.route/service</c> JSON must not drift from it (issue 11 §6). The JSON is written from the schema's
/// field list; the model reads every field, or the field is in <see cref="NotInModel"/> with the reason.
/// </summary>
public sealed class EntityFieldListTests
{
    private static readonly EntityRegistry Registry = GatehouseEntities.Default;
    private const string Id = "4f3e5c1a-1b2c-4d5e-8f90-123456789abc";
    private const string OtherId = "0c2f4e6a-8b0d-4f1e-9a3c-5b7d9e1f2a4c";

    /// <summary>Kong 3.9.3 <c>kong/db/schema/entities/routes.lua</c> and <c>services.lua</c> with
    /// <c>router_flavor = traditional_compatible</c> (<c>expression</c>/<c>priority</c> exist only for "expressions").</summary>
    private static readonly Dictionary<string, string[]> KongFields = new()
    {
        ["routes"] = ["id", "created_at", "updated_at", "name", "protocols", "https_redirect_status_code", "strip_path",
            "preserve_host", "request_buffering", "response_buffering", "tags", "service", "snis", "sources", "destinations",
            "methods", "hosts", "paths", "headers", "regex_priority", "path_handling"],
        ["services"] = ["id", "created_at", "updated_at", "name", "retries", "protocol", "host", "port", "path",
            "connect_timeout", "write_timeout", "read_timeout", "tags", "client_certificate", "tls_verify", "tls_verify_depth",
            "ca_certificates", "enabled"],
    };

    /// <summary>Schema fields the data plane does not read, and why. Anything else must reach the model.</summary>
    private static readonly Dictionary<string, Dictionary<string, string>> NotInModel = new()
    {
        ["services"] = new(),
        ["routes"] = new()
        {
            ["sources"] = "Kong allows it on stream routes (tcp, tls, udp) only, which the data plane does not serve",
            ["destinations"] = "Kong allows it on stream routes (tcp, tls, udp) only, which the data plane does not serve",
        },
        ["consumers"] = Metadata("created_at", "updated_at"),
        ["plugins"] = [],
        ["keyauth_credentials"] = new(Metadata("created_at", "updated_at", "tags")) { ["ttl"] = "refused when set (NotSupportedCheck)" },
        ["basicauth_credentials"] = Metadata("created_at", "updated_at", "tags"),
        ["acls"] = Metadata("created_at", "updated_at", "tags"),
        ["filter_chains"] = Metadata("created_at", "updated_at"),
        ["upstreams"] = Metadata("created_at", "updated_at"),
        ["targets"] = Metadata("updated_at"),
        // issue 14: stored in the model for the TLS work to come; the data plane does not read them yet (docs/tls.md)
        ["certificates"] = new(Metadata("created_at", "updated_at"))
        {
            ["snis"] = "transient (Kong's DAO): written as snis rows, which reach the model as SniModel",
        },
        ["snis"] = Metadata("created_at", "updated_at"),
        ["ca_certificates"] = Metadata("created_at", "updated_at"),
        // issue 14: stored and validated as Kong OSS; no bundled plugin reads keys (docs/tls.md)
        ["key_sets"] = Metadata("created_at", "updated_at"),
        ["keys"] = Metadata("created_at", "updated_at"),
        ["vaults"] = Metadata("created_at", "updated_at", "description", "tags"),
    };

    private static Dictionary<string, string> Metadata(params string[] fields) =>
        fields.ToDictionary(f => f, _ => "Admin API metadata: no effect on proxying");

    /// <summary>A stored row per entity, every field set to a value that is not its default.</summary>
    private static readonly Dictionary<string, string> Samples = new()
    {
        ["services"] = $$"""
            {"id":"{{Id}}","created_at":1,"updated_at":2,"name":"s","retries":3,"protocol":"https","host":"h.test",
            "port":8443,"path":"/p","connect_timeout":1001,"write_timeout":1002,"read_timeout":1003,"tags":["t"],
            "client_certificate":{"id":"{{OtherId}}"},"tls_verify":true,"tls_verify_depth":3,"ca_certificates":["{{OtherId}}"],"enabled":false}
            """,
        ["routes"] = $$"""
            {"id":"{{Id}}","created_at":1,"updated_at":2,"name":"r","protocols":["https"],"methods":["GET"],"hosts":["h.test"],
            "paths":["/r"],"headers":{"x-a":["1"]},"snis":["h.test"],"sources":[{"ip":"10.0.0.1","port":null}],
            "destinations":[{"ip":"10.0.0.2","port":null}],"strip_path":false,"preserve_host":true,"regex_priority":7,"path_handling":"v1",
            "https_redirect_status_code":301,"request_buffering":false,"response_buffering":false,"tags":["t"],"service":{"id":"{{OtherId}}"} }
            """,
        ["consumers"] = $$"""
            {"id":"{{Id}}","created_at":1,"updated_at":2,"username":"u","custom_id":"c","tags":["t"]}
            """,
        ["plugins"] = $$"""
            {"id":"{{Id}}","created_at":1,"updated_at":2,"name":"cors","instance_name":"i","route":{"id":"{{OtherId}}"},
            "service":{"id":"{{OtherId}}"},"consumer":{"id":"{{OtherId}}"},"config":{"origins":["*"]},"protocols":["http"],"enabled":false,"tags":["t"]}
            """,
        ["keyauth_credentials"] = $$"""
            {"id":"{{Id}}","created_at":1,"updated_at":2,"consumer":{"id":"{{OtherId}}"},"key":"k","ttl":60,"tags":["t"]}
            """,
        ["basicauth_credentials"] = $$"""
            {"id":"{{Id}}","created_at":1,"updated_at":2,"consumer":{"id":"{{OtherId}}"},"username":"u","password":"p","tags":["t"]}
            """,
        ["acls"] = $$"""
            {"id":"{{Id}}","created_at":1,"updated_at":2,"consumer":{"id":"{{OtherId}}"},"group":"g","tags":["t"]}
            """,
        ["filter_chains"] = $$"""
            {"id":"{{Id}}","name":"fc","enabled":false,"route":{"id":"{{OtherId}}"},"service":{"id":"{{OtherId}}"},
            "filters":[{"name":"f","enabled":false,"config":"x"}],"created_at":1,"updated_at":2,"tags":["t"]}
            """,
        ["upstreams"] = $$"""
            {"id":"{{Id}}","created_at":1,"updated_at":2,"name":"u.test","algorithm":"consistent-hashing","hash_on":"header",
            "hash_fallback":"query_arg","hash_on_header":"x-h","hash_fallback_header":"x-f","hash_on_cookie":"c","hash_on_cookie_path":"/c",
            "hash_on_query_arg":"q","hash_fallback_query_arg":"fq","hash_on_uri_capture":"u","hash_fallback_uri_capture":"fu","slots":100,
            "healthchecks":{"threshold":50},"tags":["t"],"host_header":"h.test","client_certificate":{"id":"{{OtherId}}"},"use_srv_name":true}
            """,
        ["targets"] = $$"""
            {"id":"{{Id}}","created_at":1,"updated_at":2,"upstream":{"id":"{{OtherId}}"},"target":"10.0.0.1:81","weight":7,"tags":["t"]}
            """,
        ["certificates"] = $$"""
            {"id":"{{Id}}","created_at":1,"updated_at":2,"cert":"c","key":"k","cert_alt":"ca","key_alt":"ka","tags":["t"],"snis":["a.test"]}
            """,
        ["snis"] = $$"""
            {"id":"{{Id}}","created_at":1,"updated_at":2,"name":"a.test","certificate":{"id":"{{OtherId}}"},"tags":["t"]}
            """,
        ["ca_certificates"] = $$"""
            {"id":"{{Id}}","created_at":1,"updated_at":2,"cert":"c","cert_digest":"d","tags":["t"]}
            """,
        ["key_sets"] = $$"""
            {"id":"{{Id}}","created_at":1,"updated_at":2,"name":"ks","tags":["t"]}
            """,
        ["keys"] = $$"""
            {"id":"{{Id}}","created_at":1,"updated_at":2,"set":{"id":"{{OtherId}}"},"name":"k","kid":"kid","jwk":"{}","pem":{"private_key":"pr","public_key":"pu"},"tags":["t"]}
            """,
        ["vaults"] = $$"""
            {"id":"{{Id}}","created_at":1,"updated_at":2,"prefix":"my-env","name":"env","description":"d",
            "config":{"prefix":"APP_"},"tags":["t"]}
            """,
    };

    public static TheoryData<string> Entities() => [.. Registry.Schemas.Select(s => s.Name)];

    [Theory]
    [InlineData("routes")]
    [InlineData("services")]
    public void The_schema_has_Kongs_fields(string entity) =>
        Assert.Equal(KongFields[entity].Order(StringComparer.Ordinal), Registry.ByName(entity)!.Fields.Select(f => f.Name).Order(StringComparer.Ordinal));

    [Theory]
    [InlineData("routes", $$"""{"name":"r1","paths":["/r"],"hosts":["h.test"],"service":{"id":"{{OtherId}}"} }""")]
    [InlineData("services", """{"name":"s1","host":"h.test","protocol":"https","port":443,"tls_verify":false}""")]
    public void The_router_property_is_the_Admin_API_entity_with_every_schema_and_Kong_field(string entity, string input)
    {
        var schema = Registry.ByName(entity)!;
        var result = EntityValidator.Validate(schema, JsonNode.Parse(input)!.AsObject(), ValidationContext.Insert);
        Assert.True(result.IsValid, result.Errors?.ToJsonString());
        var stored = result.Entity!;
        (stored["id"], stored["created_at"], stored["updated_at"]) = (Id, 1700000000, 1700000001); // as the store sets them
        var config = schema.AddToConfig!(GatewayConfig.Empty, [stored]);
        var json = entity == "routes" ? KongEntityJson.Route(config.Routes.Single()) : KongEntityJson.Service(config.Services.Single());
        var property = JsonNode.Parse(json!)!.AsObject();
        Assert.Equal(schema.Fields.Select(f => f.Name), property.Select(p => p.Key));
        Assert.Equal(KongFields[entity].Order(StringComparer.Ordinal), property.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.True(JsonNode.DeepEquals(stored, property), $"{stored.ToJsonString()}\n{property.ToJsonString()}");
    }

    [Theory]
    [MemberData(nameof(Entities))]
    public void Every_schema_field_reaches_the_model_or_is_listed_with_the_reason(string entity)
    {
        var schema = Registry.ByName(entity)!;
        Assert.True(Samples.ContainsKey(entity) && NotInModel.ContainsKey(entity), $"{entity}: add a sample row and its NotInModel entry");
        var sample = JsonNode.Parse(Samples[entity])!.AsObject();
        Assert.Equal(schema.Fields.Select(f => f.Name).Order(StringComparer.Ordinal), sample.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.NotNull(schema.AddToConfig);
        var full = ModelOf(schema, sample);
        var unread = new List<string>();
        foreach (var field in schema.Fields.Select(f => f.Name))
        {
            var without = sample.DeepClone().AsObject();
            without.Remove(field);
            string? model;
            try { model = ModelOf(schema, without); }
            catch (Exception e) when (e is InvalidOperationException or FormatException) { model = null; } // a required read
            if (model == full) unread.Add(field);
        }
        Assert.Equal(NotInModel[entity].Keys.Order(StringComparer.Ordinal), unread.Order(StringComparer.Ordinal));
    }

    /// <summary>A row stored before a field existed converts with the schema's default for it (the conversion keeps no
    /// defaults of its own), and a conversion naming a field the schema lacks fails instead of reading null.</summary>
    [Theory]
    [InlineData("routes", $$"""{"id":"{{Id}}","paths":["/r"]}""")]
    [InlineData("services", $$"""{"id":"{{Id}}","host":"h.test"}""")]
    public void A_missing_field_converts_as_the_schema_default(string entity, string minimal)
    {
        var schema = Registry.ByName(entity)!;
        var row = JsonNode.Parse(minimal)!.AsObject();
        var completed = row.DeepClone().AsObject();
        foreach (var field in schema.Fields)
            if (!completed.ContainsKey(field.Name) && field.Default is { } value) completed[field.Name] = value.DeepClone();
        Assert.True(completed.Count > row.Count + 5, "the schema has defaults to apply");
        Assert.Equal(ModelOf(schema, completed), ModelOf(schema, row));
        Assert.Throws<ArgumentException>(() => new EntityReader(schema, row).String("no_such_field"));
    }

    /// <summary>A key-auth credential's <c>ttl</c> was stored and ignored (the key never expired); Admin API and
    /// declarative files share this validation. Null stays valid (decK and Kong exports write it).</summary>
    [Theory]
    [InlineData("60", "not supported by Gatehouse: key-auth credentials do not expire")]
    [InlineData("null", null)]
    public void A_key_auth_ttl_is_refused_naming_the_field(string ttl, string? error)
    {
        var input = JsonNode.Parse($$"""{"consumer":{"id":"{{OtherId}}"},"key":"k","ttl":{{ttl}} }""")!.AsObject();
        var result = EntityValidator.Validate(Registry.ByName("keyauth_credentials")!, input, ValidationContext.Insert);
        Assert.Equal(error, (string?)result.Errors?["ttl"]);
        Assert.Equal(error is null, result.IsValid);
    }

    /// <summary>The configuration built from one row, as JSON, without the entity document (which holds every field
    /// by construction and would hide a field the model does not read).</summary>
    private static string ModelOf(EntitySchema schema, JsonObject row)
    {
        var config = JsonSerializer.SerializeToNode(schema.AddToConfig!(GatewayConfig.Empty, [row]))!.AsObject();
        foreach (var (_, list) in config)
            if (list is JsonArray items)
                foreach (var item in items.OfType<JsonObject>()) item.Remove(nameof(RouteModel.Document));
        return config.ToJsonString();
    }
}
