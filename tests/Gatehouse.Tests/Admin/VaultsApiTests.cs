using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Admin;

/// <summary>Kong 3.9's <c>vaults</c> entity and vault references in referenceable fields through the Admin API: the
/// reference is stored and shown as given, the published configuration holds the value read from the environment
/// (variables set in this process under names no other test uses).</summary>
public class VaultsApiTests : AdminStoreTests
{
    private static readonly PemPair Rsa = TestCertificates.Rsa("CN=vault.test");

    [Fact]
    public async Task A_vault_is_created_found_by_prefix_updated_and_deleted_with_Kongs_fields()
    {
        var (status, created) = await _host.PostAsync("/vaults",
            new { prefix = "my-env", name = "env", description = "secrets", config = new { prefix = "APP_" }, tags = new[] { "t" } });
        Assert.Equal(201, status);
        Assert.Equal("my-env", (string?)created!["prefix"]);
        Assert.Equal("APP_", (string?)created["config"]!["prefix"]);
        Assert.NotNull(created["created_at"]);
        var id = (string)created["id"]!;

        var (byPrefix, fetched) = await _host.GetAsync("/vaults/my-env");
        Assert.Equal(200, byPrefix);
        Assert.Equal(id, (string?)fetched!["id"]);
        var (patched, body) = await _host.SendAsync(HttpMethod.Patch, "/vaults/my-env", new { config = new { prefix = "OTHER_" } });
        Assert.Equal(200, patched);
        Assert.Equal("OTHER_", (string?)body!["config"]!["prefix"]);
        var (duplicate, _) = await _host.PostAsync("/vaults", new { prefix = "my-env", name = "env" });
        Assert.Equal(409, duplicate);
        Assert.Equal(204, (await _host.SendAsync(HttpMethod.Delete, "/vaults/my-env")).Status);
        Assert.Equal(404, (await _host.GetAsync($"/vaults/{id}")).Status);
    }

    [Theory]
    [InlineData("{\"prefix\":\"x-vault\",\"name\":\"hcv\"}", "name", "vault 'hcv' is not installed")]
    [InlineData("{\"prefix\":\"env\",\"name\":\"env\"}", "prefix", "must not be one of: env")]
    [InlineData("{\"prefix\":\"Bad_Prefix\",\"name\":\"env\"}", "prefix", "invalid value: Bad_Prefix")]
    [InlineData("{\"prefix\":\"ok-vault\",\"name\":\"env\",\"config\":{\"prefix\":\"1X\"}}", "config.prefix", "invalid value: 1X")]
    [InlineData("{\"prefix\":\"ok-vault\",\"name\":\"env\",\"config\":{\"ttl\":60}}", "config.ttl", "unknown field")]
    [InlineData("{\"name\":\"env\"}", "prefix", "required field missing")]
    public async Task A_bad_vault_is_Kongs_schema_violation(string json, string field, string message)
    {
        var (status, body) = await _host.PostAsync("/vaults", JsonNode.Parse(json)!);
        Assert.Equal(400, status);
        Assert.Equal(2, (int?)body!["code"]);
        Assert.Equal("schema violation", (string?)body["name"]);
        var fields = body["fields"]!;
        foreach (var part in field.Split('.')) fields = fields[part]!;
        Assert.Equal(message, (string?)fields);
    }

    /// <summary>Kong: a referenceable field skips the value's validation (and the entity checks reading it) for a
    /// reference; the reference is what is stored and shown; the configuration holds the environment's value.</summary>
    [Fact]
    public async Task A_certificate_key_reference_is_stored_and_shown_as_given_and_published_resolved()
    {
        var variable = "GH_VAULT_API_" + Guid.NewGuid().ToString("N").ToUpperInvariant();
        var reference = "{vault://env/" + variable.ToLowerInvariant().Replace('_', '-') + "}"; // Kong: upper-cased, - is _
        Environment.SetEnvironmentVariable(variable, Rsa.Key);
        try
        {
            var (status, created) = await _host.PostAsync("/certificates", new { cert = Rsa.Cert, key = reference });
            Assert.Equal(201, status);
            Assert.Equal(reference, (string?)created!["key"]);
            var (_, fetched) = await _host.GetAsync($"/certificates/{created["id"]}");
            Assert.Equal(reference, (string?)fetched!["key"]);
            Assert.DoesNotContain("PRIVATE KEY", fetched.ToJsonString(), StringComparison.Ordinal);

            var published = Assert.Single(_host.Publisher.Current.Certificates);
            Assert.Equal(Rsa.Key, published.Key);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    /// <summary>Kong's schema dump marks the fields that take references.</summary>
    [Fact]
    public async Task The_schema_dump_marks_referenceable_fields_and_vaults_has_a_schema()
    {
        var (_, certificates) = await _host.GetAsync("/schemas/certificates");
        bool Referenceable(JsonNode schema, string name) =>
            schema["fields"]!.AsArray().Single(f => f!.AsObject().ContainsKey(name))![name]!["referenceable"] is { } r && (bool)r;
        Assert.True(Referenceable(certificates!, "key"));
        Assert.True(Referenceable(certificates!, "cert_alt"));
        Assert.False(Referenceable(certificates!, "tags"));
        var (status, vaults) = await _host.GetAsync("/schemas/vaults");
        Assert.Equal(200, status);
        Assert.True(vaults!["fields"]!.AsArray().Single(f => f!.AsObject().ContainsKey("prefix"))!["prefix"]!["unique"]!.GetValue<bool>());
    }

    /// <summary>Not a reference (Kong's <c>is_reference</c>: <c>{vault://</c> … <c>}</c>): the value's own validation
    /// answers. A reference in a field Kong does not mark referenceable is just a string, checked as one.</summary>
    [Fact]
    public async Task A_malformed_reference_is_validated_as_a_value_and_non_referenceable_fields_take_no_reference()
    {
        var (badSyntax, body) = await _host.PostAsync("/certificates", new { cert = Rsa.Cert, key = "{vault:/env/key}" });
        Assert.Equal(400, badSyntax);
        Assert.StartsWith("invalid key: ", (string?)body!["fields"]!["key"]);
        var (caStatus, caBody) = await _host.PostAsync("/ca_certificates", new { cert = "{vault://env/ca}" });
        Assert.Equal(400, caStatus);
        Assert.StartsWith("invalid certificate: ", (string?)caBody!["fields"]!["cert"]);
    }

    /// <summary>Kong accepts a reference to a vault that does not exist (yet) or a variable that is not set: it is
    /// resolved when used; the field is then empty and the failure logged (Hosting/VaultReferenceTests).</summary>
    [Fact]
    public async Task An_unknown_vault_is_accepted_at_write_time_as_Kong_and_publishes_an_empty_value()
    {
        var (status, created) = await _host.PostAsync("/certificates", new { cert = Rsa.Cert, key = "{vault://nowhere/key}" });
        Assert.Equal(201, status);
        Assert.Equal("{vault://nowhere/key}", (string?)created!["key"]);
        Assert.Equal("", Assert.Single(_host.Publisher.Current.Certificates).Key);
    }
}

/// <summary>Every test of <see cref="VaultsApiTests"/> on PostgreSQL.</summary>
public sealed class VaultsApiTestsOnPostgres : VaultsApiTests
{
    private protected override AdminStore Store => AdminStore.Postgres;
}
