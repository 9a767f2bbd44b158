using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>Keys generated for a test (never checked in), as the <c>keys</c> entity takes them: JWK strings and PEM
/// pairs of RSA and EC keys, and an Ed25519 PKCS#8 PEM (built from its fixed DER prefix: .NET cannot generate one).</summary>
internal static class TestKeys
{
    public static string RsaJwk(string kid, bool withPrivate = true)
    {
        using var rsa = RSA.Create(2048);
        var p = rsa.ExportParameters(withPrivate);
        var jwk = new JsonObject { ["kty"] = "RSA", ["kid"] = kid, ["n"] = B64(p.Modulus!), ["e"] = B64(p.Exponent!) };
        if (withPrivate)
        {
            jwk["d"] = B64(p.D!);
            jwk["p"] = B64(p.P!);
            jwk["q"] = B64(p.Q!);
            jwk["dp"] = B64(p.DP!);
            jwk["dq"] = B64(p.DQ!);
            jwk["qi"] = B64(p.InverseQ!);
        }
        return jwk.ToJsonString();
    }

    public static JsonObject EcJwk(string kid)
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = ec.ExportParameters(true);
        return new JsonObject { ["kty"] = "EC", ["crv"] = "P-256", ["kid"] = kid, ["x"] = B64(p.Q.X!), ["y"] = B64(p.Q.Y!), ["d"] = B64(p.D!) };
    }

    /// <summary>(public_key, private_key) PEM of a fresh RSA or EC key.</summary>
    public static (string Public, string Private) PemPair(bool ec = false)
    {
        using AsymmetricAlgorithm key = ec ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : RSA.Create(2048);
        return (key.ExportSubjectPublicKeyInfoPem(), key.ExportPkcs8PrivateKeyPem());
    }

    public static string Ed25519PrivatePem()
    {
        byte[] der = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20, .. RandomNumberGenerator.GetBytes(32)];
        return PemEncoding.WriteString("PRIVATE KEY", der);
    }

    private static string B64(byte[] bytes) => Base64Url.EncodeToString(bytes);
}
