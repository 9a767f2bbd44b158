using System.Buffers.Text;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Entities;

/// <summary>
/// The <c>keys</c> entity's key material, loaded as Kong loads it with lua-resty-openssl (<c>pkey.new</c> with
/// format JWK or PEM), here on .NET's RSA and ECDsa importers: Kong's JWK entity check (decode, <c>kid</c>, load,
/// then <c>typedefs.jwk</c>'s record) and <c>typedefs.pem</c>'s validator (public key, private key, matching pair).
/// Keys .NET cannot load (OKP: Ed25519, X25519, Ed448, X448; DSA...) are refused naming their type, never stored unchecked.
/// </summary>
public static class KeyMaterial
{
    private const string NotSupported = "not supported by Gatehouse: ";

    /// <summary>Kong's <c>typedefs.jwk</c> fields (a JWK with any other member fails its schema validation).</summary>
    private static readonly FieldDefinition[] JwkFields =
    [
        .. new[] { "issuer", "kty", "use" }.Select(String),
        new("key_ops", FieldType.Array) { Elements = String("key_ops") },
        String("alg"),
        String("kid") with { Required = true },
        String("x5u"),
        new("x5c", FieldType.Array) { Elements = String("x5c") },
        .. new[] { "x5t", "x5t#S256", "k", "x", "y", "crv", "n", "e", "d", "p", "q", "dp", "dq", "qi", "oth", "r", "t" }.Select(String),
    ];

    private static FieldDefinition String(string name) => new(name, FieldType.String);

    /// <summary>Kong's keys <c>custom_entity_check</c> on <c>jwk</c>: null when there is no JWK or it is valid.</summary>
    public static CheckFailure? CheckJwk(JsonObject entity)
    {
        if (EntityJson.String(entity, "jwk") is not { } text) return null;
        JsonObject? jwk;
        try { jwk = JsonNode.Parse(text) as JsonObject; }
        catch (JsonException) { jwk = null; }
        if (jwk is null) return new(null, "could not json decode jwk string");
        if (EntityJson.String(jwk, "kid") is not { } kid || kid != EntityJson.String(entity, "kid"))
            return new(null, "kid in jwk.kid must be equal to keys.kid");
        var kty = EntityJson.String(jwk, "kty");
        if (kty == "OKP")
            return new("jwk", NotSupported + "JWK kty 'OKP' (Ed25519, X25519, Ed448, X448 keys: .NET cannot load them)");
        if (!LoadsAsJwk(jwk, kty)) return new(null, "could not load JWK, likely not a valid key");
        var errors = FieldValidator.CheckRecord(JwkFields, [], jwk, out _);
        return errors is JsonObject e ? new(null, "Validation error: " + ErrorsToString(e)) : null;
    }

    /// <summary>Kong's <c>typedefs.pem</c> validator over the validated record: each key present loads (the public one
    /// as a public key, the private one as a private key) and, when both are given, they are one pair.</summary>
    public static string? ValidatePem(JsonNode pem)
    {
        var publicPem = EntityJson.String(pem.AsObject(), "public_key");
        var privatePem = EntityJson.String(pem.AsObject(), "private_key");
        // a vault reference is checked when it is resolved, as Kong's
        if (Config.VaultReference.IsReference(publicPem) || Config.VaultReference.IsReference(privatePem)) return null;
        using var publicKey = publicPem is null ? null : Load(publicPem, isPrivate: false, out _);
        if (publicPem is not null && publicKey is null) return Unsupported(publicPem) ?? "could not load public key";
        var reason = "";
        using var privateKey = privatePem is null ? null : Load(privatePem, isPrivate: true, out reason);
        if (privatePem is not null && privateKey is null) return Unsupported(privatePem) ?? "could not load private key" + reason;
        if (publicKey is not null && privateKey is not null
            && !publicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(privateKey.ExportSubjectPublicKeyInfo()))
            return "public key does not match private key";
        return null;
    }

    /// <summary>An RSA or EC key from PEM whose label is of the wanted kind (OpenSSL's "pu"/"pr" readers: a private key
    /// is not read as a public one); null and OpenSSL-like reason otherwise.</summary>
    private static AsymmetricAlgorithm? Load(string pem, bool isPrivate, out string reason)
    {
        reason = "pkey.new:load_key: no PEM " + (isPrivate ? "private" : "public") + " key found";
        if (!PemEncoding.TryFind(pem, out var fields)) return null;
        var label = pem[fields.Label];
        var labels = isPrivate ? PrivateLabels : PublicLabels;
        if (!labels.Contains(label)) return null;
        foreach (var create in new Func<AsymmetricAlgorithm>[] { RSA.Create, ECDsa.Create })
        {
            var key = create();
            try
            {
                key.ImportFromPem(pem);
                return key;
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException)
            {
                reason = "pkey.new:load_key: " + e.Message;
                key.Dispose();
            }
        }
        return null;
    }

    private static readonly string[] PublicLabels = ["PUBLIC KEY", "RSA PUBLIC KEY"];
    private static readonly string[] PrivateLabels = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"];

    /// <summary>The refusal for a well-formed PKCS#8/SubjectPublicKeyInfo key of an algorithm .NET cannot load
    /// (OpenSSL, and so Kong, loads it); null for anything else (Kong's own message then applies).</summary>
    private static string? Unsupported(string pem)
    {
        if (!PemEncoding.TryFind(pem, out var fields)) return null;
        var label = pem[fields.Label];
        if (label is not ("PUBLIC KEY" or "PRIVATE KEY")) return null;
        string oid;
        try
        {
            var der = Convert.FromBase64String(pem[fields.Base64Data].ToString());
            var outer = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
            if (label == "PRIVATE KEY") outer.ReadInteger(); // PKCS#8 version
            oid = outer.ReadSequence().ReadObjectIdentifier();
        }
        catch (Exception e) when (e is AsnContentException or FormatException) { return null; }
        return AlgorithmNames.TryGetValue(oid, out var name) ? NotSupported + name + " keys (.NET loads RSA and EC keys only)" : null;
    }

    private static readonly Dictionary<string, string> AlgorithmNames = new(StringComparer.Ordinal)
    {
        ["1.3.101.110"] = "X25519",
        ["1.3.101.111"] = "X448",
        ["1.3.101.112"] = "Ed25519",
        ["1.3.101.113"] = "Ed448",
        ["1.2.840.10040.4.1"] = "DSA",
        ["1.2.840.113549.1.3.1"] = "DH",
        ["1.2.840.10046.2.1"] = "DH",
        ["1.2.840.113549.1.1.10"] = "RSASSA-PSS",
    };

    /// <summary>Whether the JWK is an RSA (n, e; with d also p, q, dp, dq, qi) or EC (P-256/384/521, x, y, optional d)
    /// key that .NET imports; its integers are base64url, shorter values padded to the key's size.</summary>
    private static bool LoadsAsJwk(JsonObject jwk, string? kty)
    {
        try
        {
            switch (kty)
            {
                case "RSA":
                {
                    var n = Bytes(jwk, "n");
                    var e = Bytes(jwk, "e");
                    if (n is null || e is null) return false;
                    var parameters = new RSAParameters { Modulus = n, Exponent = e };
                    if (jwk["d"] is not null)
                    {
                        var half = (n.Length + 1) / 2;
                        parameters.D = Padded(Bytes(jwk, "d"), n.Length);
                        parameters.P = Padded(Bytes(jwk, "p"), half);
                        parameters.Q = Padded(Bytes(jwk, "q"), half);
                        parameters.DP = Padded(Bytes(jwk, "dp"), half);
                        parameters.DQ = Padded(Bytes(jwk, "dq"), half);
                        parameters.InverseQ = Padded(Bytes(jwk, "qi"), half);
                    }
                    using var rsa = RSA.Create();
                    rsa.ImportParameters(parameters);
                    return true;
                }
                case "EC":
                {
                    (ECCurve curve, int size) = EntityJson.String(jwk, "crv") switch
                    {
                        "P-256" => (ECCurve.NamedCurves.nistP256, 32),
                        "P-384" => (ECCurve.NamedCurves.nistP384, 48),
                        "P-521" => (ECCurve.NamedCurves.nistP521, 66),
                        _ => (default(ECCurve), 0),
                    };
                    if (size == 0) return false;
                    var parameters = new ECParameters
                    {
                        Curve = curve,
                        Q = new ECPoint { X = Padded(Bytes(jwk, "x"), size), Y = Padded(Bytes(jwk, "y"), size) },
                        D = jwk["d"] is null ? null : Padded(Bytes(jwk, "d"), size),
                    };
                    using var ec = ECDsa.Create();
                    ec.ImportParameters(parameters);
                    return true;
                }
                default:
                    return false;
            }
        }
        catch (Exception e) when (e is CryptographicException or FormatException or ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private static byte[]? Bytes(JsonObject jwk, string name) =>
        EntityJson.String(jwk, name) is { } text ? Base64Url.DecodeFromChars(text) : null;

    private static byte[] Padded(byte[]? value, int size)
    {
        if (value is null || value.Length > size) throw new FormatException("missing or oversized key parameter");
        if (value.Length == size) return value;
        var padded = new byte[size];
        value.CopyTo(padded, size - value.Length);
        return padded;
    }

    /// <summary>Kong's <c>Schema:errors_to_string</c> body: entity errors, then "field: error" (sorted here; Kong's
    /// order is its hash order), joined by "; "; nested errors recursively.</summary>
    private static string ErrorsToString(JsonNode errors)
    {
        var messages = new List<string>();
        if (errors is JsonArray list)
            messages.AddRange(list.OfType<JsonValue>().Select(v => v.GetValue<string>()));
        else if (errors is JsonObject fields)
        {
            if (fields["@entity"] is JsonArray general) messages.AddRange(general.OfType<JsonValue>().Select(v => v.GetValue<string>()));
            foreach (var (name, error) in fields.Where(f => f.Key != "@entity").OrderBy(f => f.Key, StringComparer.Ordinal))
                messages.Add(name + ": " + (error is JsonValue v ? v.GetValue<string>() : "Validation error: " + ErrorsToString(error!)));
        }
        return string.Join("; ", messages);
    }
}
