using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Admin;

/// <summary>Kong 3.9's keys and key_sets through the Admin API: CRUD by id and name, paging, keys nested under their
/// set, the cascade, Kong's validation messages for JWK and PEM keys, and kid unique within a set.</summary>
public class KeysApiTests : AdminStoreTests
{
    [Fact]
    public async Task Keys_and_sets_are_created_read_by_id_and_name_nested_paged_and_returned_as_stored()
    {
        var (setStatus, set) = await _host.PostAsync("/key-sets", new { name = "signing", tags = new[] { "t" } });
        Assert.Equal(201, setStatus);
        var setId = (string)set!["id"]!;
        Assert.Equal(setId, (string?)(await _host.GetAsync("/key-sets/signing")).Body!["id"]);

        var jwk = TestKeys.RsaJwk("rsa-1");
        var (s1, jwkKey) = await _host.PostAsync("/keys", new { name = "jwk-key", kid = "rsa-1", jwk, set = new { id = setId } });
        Assert.True(s1 == 201, jwkKey?.ToJsonString());
        Assert.Equal(jwk, (string?)jwkKey!["jwk"]); // the JWK string as sent, private parameters included (as Kong)
        Assert.Null(jwkKey["pem"]);
        var (pub, priv) = TestKeys.PemPair(ec: true);
        var (s2, pemKey) = await _host.PostAsync("/keys", new { name = "pem-key", kid = "ec-1", pem = new { public_key = pub, private_key = priv } });
        Assert.True(s2 == 201, pemKey?.ToJsonString());
        Assert.Equal(priv, (string?)pemKey!["pem"]!["private_key"]);
        Assert.Equal(pub, (string?)pemKey["pem"]!["public_key"]);
        Assert.Null(pemKey["set"]);
        // nested: created under the set by name, listed under it
        var (s3, nested) = await _host.PostAsync("/key-sets/signing/keys", new { kid = "ec-2", jwk = TestKeys.EcJwk("ec-2").ToJsonString() });
        Assert.True(s3 == 201, nested?.ToJsonString());
        Assert.Equal(setId, (string?)nested!["set"]!["id"]);

        var (_, byName) = await _host.GetAsync("/keys/pem-key");
        Assert.Equal((string?)pemKey["id"], (string?)byName!["id"]);
        var (_, inSet) = await _host.GetAsync($"/key-sets/{setId}/keys");
        Assert.Equal(["ec-2", "rsa-1"], inSet!["data"]!.AsArray().Select(k => (string)k!["kid"]!).Order(StringComparer.Ordinal));
        Assert.Equal(setId, (string?)(await _host.GetAsync("/keys/jwk-key/set")).Body!["id"]);

        var (_, page1) = await _host.GetAsync("/keys?size=2");
        Assert.Equal(2, page1!["data"]!.AsArray().Count);
        var (_, page2) = await _host.GetAsync("/keys?size=2&offset=" + Uri.EscapeDataString((string)page1["offset"]!));
        Assert.Single(page2!["data"]!.AsArray());

        var (patchStatus, patched) = await _host.SendAsync(HttpMethod.Patch, "/keys/jwk-key", new { name = "renamed" });
        Assert.Equal(200, patchStatus);
        Assert.Equal(jwk, (string?)patched!["jwk"]);
        Assert.Equal(200, (await _host.GetAsync("/keys/renamed")).Status);
        var (_, renamedSet) = await _host.SendAsync(HttpMethod.Patch, "/key-sets/signing", new { name = "changed" });
        Assert.Equal("changed", (string?)renamedSet!["name"]);
        Assert.Equal(404, (await _host.GetAsync("/key-sets/signing")).Status);
    }

    [Fact]
    public async Task Deleting_a_set_deletes_its_keys_and_keeps_the_others()
    {
        var setId = await CreateSetAsync("doomed");
        var (pub, priv) = TestKeys.PemPair();
        await CreateKeyAsync(new { kid = "a", set = new { id = setId }, pem = new { public_key = pub } });
        await CreateKeyAsync(new { kid = "b", set = new { id = setId }, pem = new { private_key = priv } });
        await CreateKeyAsync(new { kid = "c", jwk = TestKeys.RsaJwk("c", withPrivate: false) });

        Assert.Equal(204, (await _host.SendAsync(HttpMethod.Delete, "/key-sets/doomed")).Status);
        var keys = (await _host.GetAsync("/keys")).Body!["data"]!.AsArray();
        Assert.Equal("c", (string?)Assert.Single(keys)!["kid"]);
        Assert.Empty((await _host.GetAsync("/key-sets")).Body!["data"]!.AsArray());
    }

    [Fact]
    public async Task A_kid_is_unique_within_its_set_and_among_keys_without_one()
    {
        var one = await CreateSetAsync("one");
        var two = await CreateSetAsync("two");
        await CreateKeyAsync(new { kid = "k", set = new { id = one }, jwk = TestKeys.RsaJwk("k", withPrivate: false) });
        var (status, body) = await _host.PostAsync("/keys", new { kid = "k", set = new { id = one }, jwk = TestKeys.RsaJwk("k", withPrivate: false) });
        Assert.Equal(409, status);
        Assert.Equal("unique constraint violation", (string?)body!["name"]);
        Assert.Equal("k", (string?)body["fields"]!["kid"]);
        Assert.Equal(one, (string?)body["fields"]!["set"]!["id"]);
        // the same kid in another set, and once without a set (Kong's cache key: an absent set is one value)
        await CreateKeyAsync(new { kid = "k", set = new { id = two }, jwk = TestKeys.RsaJwk("k", withPrivate: false) });
        await CreateKeyAsync(new { kid = "k", jwk = TestKeys.RsaJwk("k", withPrivate: false), name = "loose" });
        Assert.Equal(409, (await _host.PostAsync("/keys", new { kid = "k", jwk = TestKeys.RsaJwk("k", withPrivate: false) })).Status);
        var (dupName, dup) = await _host.PostAsync("/keys", new { kid = "other", name = "loose", jwk = TestKeys.RsaJwk("other", withPrivate: false) });
        Assert.Equal(409, dupName);
        Assert.Equal("loose", (string?)dup!["fields"]!["name"]);
        Assert.Equal(409, (await _host.PostAsync("/key-sets", new { name = "one" })).Status);
        Assert.Equal(3, (await _host.GetAsync("/keys")).Body!["data"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_JWK_is_checked_as_Kong_does_with_Kongs_messages()
    {
        var rsa = JsonNode.Parse(TestKeys.RsaJwk("r"))!.AsObject();
        await CreateKeyAsync(new { kid = "r", jwk = rsa.ToJsonString() });
        await CreateKeyAsync(new { kid = "e", jwk = TestKeys.EcJwk("e").ToJsonString() });

        Assert.Equal("could not json decode jwk string", await EntityErrorAsync(new { kid = "x", jwk = "{not json" }));
        Assert.Equal("kid in jwk.kid must be equal to keys.kid", await EntityErrorAsync(new { kid = "other", jwk = rsa.ToJsonString() }));
        var (status, body) = await _host.PostAsync("/keys", new { kid = "36", jwk = """{"kid": "36"}""" });
        Assert.Equal(400, status);
        Assert.Equal("schema violation (could not load JWK, likely not a valid key)", (string?)body!["message"]);
        var offCurve = TestKeys.EcJwk("oc");
        offCurve["y"] = offCurve["x"]!.DeepClone();
        Assert.Equal("could not load JWK, likely not a valid key", await EntityErrorAsync(new { kid = "oc", jwk = offCurve.ToJsonString() }));
        var symmetric = new JsonObject { ["kty"] = "oct", ["kid"] = "s", ["k"] = "c2VjcmV0" };
        Assert.Equal("could not load JWK, likely not a valid key", await EntityErrorAsync(new { kid = "s", jwk = symmetric.ToJsonString() }));
        // loads, but has a member Kong's typedefs.jwk does not know (as WebCrypto exports write)
        var extended = JsonNode.Parse(TestKeys.RsaJwk("w", withPrivate: false))!.AsObject();
        extended["ext"] = true;
        Assert.Equal("Validation error: ext: unknown field", await EntityErrorAsync(new { kid = "w", jwk = extended.ToJsonString() }));

        var okp = new JsonObject { ["kty"] = "OKP", ["crv"] = "Ed25519", ["kid"] = "o", ["x"] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" };
        var (okpStatus, okpBody) = await _host.PostAsync("/keys", new { kid = "o", jwk = okp.ToJsonString() });
        Assert.Equal(400, okpStatus);
        Assert.StartsWith("not supported by Gatehouse: JWK kty 'OKP'", (string?)okpBody!["fields"]!["jwk"]);
        Assert.Equal(2, (await _host.GetAsync("/keys")).Body!["data"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_PEM_key_is_checked_as_Kong_does_with_Kongs_messages()
    {
        var (pub, priv) = TestKeys.PemPair();
        var (otherPub, _) = TestKeys.PemPair();
        Assert.Equal("could not load public key", await PemErrorAsync(new { public_key = "not a pem" }));
        Assert.Equal("could not load public key", await PemErrorAsync(new { public_key = priv })); // a private key is not read as public
        Assert.StartsWith("could not load private key", await PemErrorAsync(new { private_key = pub }));
        Assert.StartsWith("could not load private key", await PemErrorAsync(new { private_key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----" }));
        Assert.Equal("public key does not match private key", await PemErrorAsync(new { public_key = otherPub, private_key = priv }));
        Assert.StartsWith("not supported by Gatehouse: Ed25519 keys", await PemErrorAsync(new { private_key = TestKeys.Ed25519PrivatePem() }));

        var (status, body) = await _host.PostAsync("/keys", new { kid = "p", pem = new { } });
        Assert.Equal(400, status);
        Assert.Equal("at least one of these fields must be non-empty: 'private_key', 'public_key'", (string?)body!["fields"]!["pem"]!["@entity"]![0]);
        await CreateKeyAsync(new { kid = "p", pem = new { public_key = pub, private_key = priv } });
        await CreateKeyAsync(new { kid = "rsa-pkcs1", pem = new { private_key = PkcsOnePrivateKey() } });
        Assert.Equal(2, (await _host.GetAsync("/keys")).Body!["data"]!.AsArray().Count);
    }

    [Fact]
    public async Task Exactly_one_of_jwk_and_pem_and_a_kid_are_required()
    {
        var (pub, _) = TestKeys.PemPair();
        Assert.Equal("only one or none of these fields must be set: 'jwk', 'pem'",
            await EntityErrorAsync(new { kid = "b", jwk = TestKeys.RsaJwk("b"), pem = new { public_key = pub } }));
        Assert.Equal("at least one of these fields must be non-empty: 'jwk', 'pem'", await EntityErrorAsync(new { kid = "n" }));
        var (status, body) = await _host.PostAsync("/keys", new { pem = new { public_key = pub } });
        Assert.Equal(400, status);
        Assert.Equal("required field missing", (string?)body!["fields"]!["kid"]);
        // a PATCH is checked on the merged key: adding a pem to a JWK key is refused
        var id = await CreateKeyAsync(new { kid = "j", jwk = TestKeys.RsaJwk("j") });
        var (patchStatus, patched) = await _host.SendAsync(HttpMethod.Patch, $"/keys/{id}", new { pem = new { public_key = pub } });
        Assert.Equal(400, patchStatus);
        Assert.Equal("only one or none of these fields must be set: 'jwk', 'pem'", (string?)patched!["fields"]!["@entity"]![0]);
    }

    private static string PkcsOnePrivateKey()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        return rsa.ExportRSAPrivateKeyPem();
    }

    private async Task<string> CreateSetAsync(string name)
    {
        var (status, body) = await _host.PostAsync("/key-sets", new { name });
        Assert.True(status == 201, body?.ToJsonString());
        return (string)body!["id"]!;
    }

    [Fact]
    public async Task Jwk_and_pem_take_vault_references_stored_and_shown_as_given()
    {
        // Kong marks them referenceable: the reference is checked when it is resolved (docs/vaults.md), not at write
        var jwkId = await CreateKeyAsync(new { kid = "v1", jwk = "{vault://env/gatehouse-test-jwk}" });
        var pemId = await CreateKeyAsync(new { kid = "v2", pem = new { private_key = "{vault://env/gatehouse-test-pem}" } });
        Assert.Equal("{vault://env/gatehouse-test-jwk}", (string?)(await _host.GetAsync("/keys/" + jwkId)).Body!["jwk"]);
        Assert.Equal("{vault://env/gatehouse-test-pem}", (string?)(await _host.GetAsync("/keys/" + pemId)).Body!["pem"]!["private_key"]);
        // not a reference: still checked as a key
        Assert.Equal("could not load public key", await PemErrorAsync(new { public_key = "{vault:/env/x}" }));
    }

    private async Task<string> CreateKeyAsync(object key)
    {
        var (status, body) = await _host.PostAsync("/keys", key);
        Assert.True(status == 201, body?.ToJsonString());
        return (string)body!["id"]!;
    }

    private async Task<string?> EntityErrorAsync(object key)
    {
        var (status, body) = await _host.PostAsync("/keys", key);
        Assert.True(status == 400, body?.ToJsonString());
        return (string?)body!["fields"]!["@entity"]![0];
    }

    private async Task<string?> PemErrorAsync(object pem)
    {
        var (status, body) = await _host.PostAsync("/keys", new { kid = "p", pem });
        Assert.True(status == 400, body?.ToJsonString());
        return (string?)body!["fields"]!["pem"];
    }
}

/// <summary>Every test of <see cref="KeysApiTests"/> on PostgreSQL.</summary>
public sealed class KeysApiTestsOnPostgres : KeysApiTests
{
    private protected override AdminStore Store => AdminStore.Postgres;
}
