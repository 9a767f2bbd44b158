using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Admin;

/// <summary>Kong 3.9's certificates, snis and ca_certificates through the Admin API: schemas, Kong's errors, the
/// certificate's transient <c>snis</c> list, nested and by-name SNIs, the cascade.</summary>
public class CertificatesApiTests : AdminStoreTests
{
    private static readonly PemPair Rsa = TestCertificates.Rsa();
    private static readonly PemPair Ecdsa = TestCertificates.Ecdsa();

    [Fact]
    public async Task A_certificate_with_snis_creates_them_and_shows_them_sorted_and_keeps_its_key()
    {
        var (status, created) = await _host.PostAsync("/certificates",
            new { cert = Rsa.Cert, key = Rsa.Key, snis = new[] { "b.test", "*.a.test" }, tags = new[] { "t1" } });
        Assert.Equal(201, status);
        Assert.Equal(["*.a.test", "b.test"], Names(created!["snis"]));
        Assert.Equal(Rsa.Key, (string?)created["key"]); // Kong returns the private key
        Assert.Null(created["cert_alt"]);
        var id = (string)created["id"]!;

        var (_, fetched) = await _host.GetAsync($"/certificates/{id}");
        Assert.Equal(["*.a.test", "b.test"], Names(fetched!["snis"]));
        var (_, list) = await _host.GetAsync("/certificates");
        Assert.Equal(["*.a.test", "b.test"], Names(Assert.Single(list!["data"]!.AsArray())!["snis"]));

        var (sniStatus, sni) = await _host.GetAsync("/snis/b.test");
        Assert.Equal(200, sniStatus);
        Assert.Equal(id, (string?)sni!["certificate"]!["id"]);
        var (_, nested) = await _host.GetAsync($"/certificates/{id}/snis");
        Assert.Equal(["*.a.test", "b.test"], nested!["data"]!.AsArray().Select(s => (string)s!["name"]!).Order(StringComparer.Ordinal));
        Assert.Equal(id, (string?)(await _host.GetAsync("/snis/*.a.test/certificate")).Body!["id"]);

        // PATCH with snis replaces the list; without, keeps it
        var (patchStatus, patched) = await _host.SendAsync(HttpMethod.Patch, $"/certificates/{id}", new { snis = new[] { "b.test", "c.test" } });
        Assert.Equal(200, patchStatus);
        Assert.Equal(["b.test", "c.test"], Names(patched!["snis"]));
        Assert.Equal(404, (await _host.GetAsync("/snis/*.a.test")).Status);
        var (_, tagged) = await _host.SendAsync(HttpMethod.Patch, $"/certificates/{id}", new { tags = new[] { "t2" } });
        Assert.Equal(["b.test", "c.test"], Names(tagged!["snis"]));
        var (_, cleared) = await _host.SendAsync(HttpMethod.Patch, $"/certificates/{id}", new JsonObject { ["snis"] = null });
        Assert.Empty(cleared!["snis"]!.AsArray());
        Assert.Empty((await _host.GetAsync("/snis")).Body!["data"]!.AsArray());
    }

    /// <summary>Kong's <c>/certificates/{sni}</c>: a certificate addressed by one of its SNIs; PUT replaces the list
    /// (keeping the SNI of the URL), or creates a certificate with that SNI; an unknown SNI is "SNI not found".</summary>
    [Fact]
    public async Task A_certificate_is_addressed_by_one_of_its_snis()
    {
        var id = await CreateAsync(Rsa, "one.test", "two.test");
        Assert.Equal(id, (string?)(await _host.GetAsync("/certificates/two.test")).Body!["id"]);
        var (missing, body) = await _host.GetAsync("/certificates/none.test");
        Assert.Equal(404, missing);
        Assert.Equal("SNI not found", (string?)body!["message"]);
        Assert.Equal(404, (await _host.SendAsync(HttpMethod.Patch, "/certificates/none.test", new { tags = new[] { "x" } })).Status);
        Assert.Equal(404, (await _host.SendAsync(HttpMethod.Delete, "/certificates/none.test")).Status);

        var (putStatus, put) = await _host.SendAsync(HttpMethod.Put, "/certificates/one.test", new { cert = Ecdsa.Cert, key = Ecdsa.Key, snis = new[] { "three.test" } });
        Assert.Equal(200, putStatus);
        Assert.Equal(id, (string?)put!["id"]);
        Assert.Equal(["one.test", "three.test"], Names(put["snis"]));
        Assert.Equal(404, (await _host.GetAsync("/snis/two.test")).Status);

        var (newStatus, created) = await _host.SendAsync(HttpMethod.Put, "/certificates/new.test", new { cert = Rsa.Cert, key = Rsa.Key });
        Assert.Equal(200, newStatus);
        Assert.NotEqual(id, (string?)created!["id"]);
        Assert.Equal(["new.test"], Names(created["snis"]));
        // PUT by id without snis replaces the list with none
        var (_, replaced) = await _host.SendAsync(HttpMethod.Put, $"/certificates/{id}", new { cert = Rsa.Cert, key = Rsa.Key });
        Assert.Empty(replaced!["snis"]!.AsArray());

        Assert.Equal(204, (await _host.SendAsync(HttpMethod.Delete, "/certificates/new.test")).Status);
        Assert.Equal(404, (await _host.GetAsync("/snis/new.test")).Status);
    }

    [Fact]
    public async Task Nested_snis_are_created_under_their_certificate_and_deleted_with_it()
    {
        var id = await CreateAsync(Ecdsa);
        var (status, sni) = await _host.PostAsync($"/certificates/{id}/snis", new { name = "nested.test" });
        Assert.Equal(201, status);
        Assert.Equal(id, (string?)sni!["certificate"]!["id"]);
        Assert.Equal(["nested.test"], Names((await _host.GetAsync($"/certificates/{id}")).Body!["snis"]));

        Assert.Equal(204, (await _host.SendAsync(HttpMethod.Delete, $"/certificates/{id}")).Status);
        Assert.Equal(404, (await _host.GetAsync("/snis/nested.test")).Status);
        Assert.Empty((await _host.GetAsync("/snis")).Body!["data"]!.AsArray());
    }

    [Fact]
    public async Task A_duplicate_sni_answers_Kongs_errors()
    {
        var first = await CreateAsync(Rsa, "dup.test");
        var second = await CreateAsync(Ecdsa);
        var (status, body) = await _host.PostAsync("/snis", new { name = "dup.test", certificate = new { id = second } });
        Assert.Equal(409, status);
        Assert.Equal("unique constraint violation", (string?)body!["name"]);
        Assert.Equal("dup.test", (string?)body["fields"]!["name"]);

        var (s2, b2) = await _host.SendAsync(HttpMethod.Patch, $"/certificates/{second}", new { snis = new[] { "dup.test" } });
        Assert.Equal(400, s2);
        Assert.Equal($"dup.test already associated with existing certificate '{first}'", (string?)b2!["fields"]!["snis"]);
        var (s3, b3) = await _host.PostAsync("/certificates", new { cert = Rsa.Cert, key = Rsa.Key, snis = new[] { "x.test", "x.test" } });
        Assert.Equal(400, s3);
        Assert.Equal("x.test is duplicated", (string?)b3!["fields"]!["snis"]);
        Assert.Equal(2, (await _host.GetAsync("/certificates")).Body!["data"]!.AsArray().Count);
    }

    [Theory]
    [InlineData("*.example.test", null)]
    [InlineData("example.*", null)]
    [InlineData("a.*.test", "wildcard must be leftmost or rightmost character")]
    [InlineData("*.a.*", "only one wildcard must be specified")]
    [InlineData("10.0.0.1", "must not be an IP")]
    [InlineData("a.test:443", "must not have a port")]
    [InlineData("bad_host!", "invalid value: bad_host!")]
    public async Task Sni_names_follow_Kongs_wildcard_host_rules(string name, string? error)
    {
        var id = await CreateAsync(Rsa);
        var (status, body) = await _host.PostAsync("/snis", new { name, certificate = new { id } });
        Assert.Equal(error is null ? 201 : 400, status);
        if (error is not null) Assert.Equal(error, (string?)body!["fields"]!["name"]);
    }

    [Fact]
    public async Task A_pem_that_does_not_parse_and_a_key_of_another_certificate_are_refused()
    {
        var (s1, b1) = await _host.PostAsync("/certificates", new { cert = "not a pem", key = Rsa.Key });
        Assert.Equal(400, s1);
        Assert.StartsWith("invalid certificate: ", (string?)b1!["fields"]!["cert"]);
        var (s2, b2) = await _host.PostAsync("/certificates", new { cert = Rsa.Cert, key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----" });
        Assert.Equal(400, s2);
        Assert.StartsWith("invalid key: ", (string?)b2!["fields"]!["key"]);

        var other = TestCertificates.Rsa("CN=other.test");
        var (s3, b3) = await _host.PostAsync("/certificates", new { cert = Rsa.Cert, key = other.Key });
        Assert.Equal(400, s3);
        Assert.Equal("certificate does not match key", (string?)b3!["fields"]!["@entity"]![0]);
        var (s4, b4) = await _host.PostAsync("/certificates", new { cert = Rsa.Cert, key = Rsa.Key, cert_alt = Ecdsa.Cert, key_alt = other.Key });
        Assert.Equal(400, s4);
        Assert.Equal("alternative certificate does not match key", (string?)b4!["fields"]!["@entity"]![0]);
        Assert.Empty((await _host.GetAsync("/certificates")).Body!["data"]!.AsArray());
    }

    [Fact]
    public async Task A_valid_alternative_pair_is_stored_and_returned_and_the_pair_is_checked_as_Kong()
    {
        var (created, pair) = await _host.PostAsync("/certificates", new { cert = Rsa.Cert, key = Rsa.Key, cert_alt = Ecdsa.Cert, key_alt = Ecdsa.Key });
        Assert.Equal(201, created);
        var (got, read) = await _host.GetAsync($"/certificates/{pair!["id"]}");
        Assert.Equal(200, got);
        Assert.Equal(Ecdsa.Cert, (string?)read!["cert_alt"]);
        Assert.Equal(Ecdsa.Key, (string?)read["key_alt"]);
        // a chain: the leaf first, then what signs it (Kong's cert field takes one)
        var chain = Rsa.Cert + "\n" + TestCertificates.Ca().Cert;
        Assert.Equal(201, (await _host.PostAsync("/certificates", new { cert = chain, key = Rsa.Key })).Status);

        var (s1, b1) = await _host.PostAsync("/certificates", new { cert = Rsa.Cert, key = Rsa.Key, cert_alt = Ecdsa.Cert });
        Assert.Equal(400, s1);
        Assert.Equal("all or none of these fields must be set: 'cert_alt', 'key_alt'", (string?)b1!["fields"]!["@entity"]![0]);
        var rsa2 = TestCertificates.Rsa("CN=rsa2.test");
        var (s2, b2) = await _host.PostAsync("/certificates", new { cert = Rsa.Cert, key = Rsa.Key, cert_alt = rsa2.Cert, key_alt = rsa2.Key });
        Assert.Equal(400, s2);
        Assert.Equal("certificate and alternative certificate need to have different type (e.g. RSA and ECDSA), "
            + "the provided certificates were both of the same type", (string?)b2!["fields"]!["@entity"]![0]);
    }

    [Fact]
    public async Task A_ca_certificate_gets_its_digest_and_must_be_a_valid_CA()
    {
        var ca = TestCertificates.Ca();
        var (status, created) = await _host.PostAsync("/ca_certificates", new { cert = ca.Cert, tags = new[] { "ca" } });
        Assert.Equal(201, status);
        using var parsed = X509Certificate2.CreateFromPem(ca.Cert);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(parsed.RawData)), (string?)created!["cert_digest"]);
        var (dupStatus, dup) = await _host.PostAsync("/ca_certificates", new { cert = ca.Cert });
        Assert.Equal(409, dupStatus);
        Assert.Equal("unique constraint violation", (string?)dup!["name"]);

        var (s1, b1) = await _host.PostAsync("/ca_certificates", new { cert = TestCertificates.Ca("CN=Old CA", validDays: -1).Cert });
        Assert.Equal(400, s1);
        Assert.Equal("certificate expired, \"Not After\" time is in the past", (string?)b1!["fields"]!["@entity"]![0]);
        var (s2, b2) = await _host.PostAsync("/ca_certificates", new { cert = Rsa.Cert });
        Assert.Equal(400, s2);
        Assert.Equal("certificate does not appear to be a CA because it is missing the \"CA\" basic constraint", (string?)b2!["fields"]!["@entity"]![0]);
        var (s3, b3) = await _host.PostAsync("/ca_certificates", new { cert = ca.Cert + "\n" + TestCertificates.Ca("CN=Second").Cert });
        Assert.Equal(400, s3);
        Assert.Equal("please submit only one certificate at a time", (string?)b3!["fields"]!["@entity"]![0]);

        var id = (string)created["id"]!;
        var other = TestCertificates.Ca("CN=Other CA");
        var (_, patched) = await _host.SendAsync(HttpMethod.Patch, $"/ca_certificates/{id}", new { cert = other.Cert });
        using var otherParsed = X509Certificate2.CreateFromPem(other.Cert);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(otherParsed.RawData)), (string?)patched!["cert_digest"]);
        Assert.Equal(204, (await _host.SendAsync(HttpMethod.Delete, $"/ca_certificates/{id}")).Status);
        Assert.Empty((await _host.GetAsync("/ca_certificates")).Body!["data"]!.AsArray());
    }

    private async Task<string> CreateAsync(PemPair pair, params string[] snis)
    {
        var (status, body) = await _host.PostAsync("/certificates", new { cert = pair.Cert, key = pair.Key, snis });
        Assert.True(status == 201, body?.ToJsonString());
        return (string)body!["id"]!;
    }

    private static IEnumerable<string> Names(JsonNode? list) => list!.AsArray().Select(n => (string)n!);
}

/// <summary>Every test of <see cref="CertificatesApiTests"/> on PostgreSQL.</summary>
public sealed class CertificatesApiTestsOnPostgres : CertificatesApiTests
{
    private protected override AdminStore Store => AdminStore.Postgres;
}
