using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Entities;

/// <summary>
/// Kong's <c>typedefs.certificate</c>/<c>typedefs.key</c> validators and the certificate entities' checks, on .NET's
/// X.509 and key parsers. Kong words a parse failure as OpenSSL does; the prefix ("invalid certificate: ",
/// "invalid key: ") is Kong's, the reason after it is .NET's.
/// </summary>
public static class PemValidation
{
    /// <summary>The first certificate of a PEM text (a chain may follow, as Kong allows); null and the reason when it
    /// does not parse.</summary>
    public static X509Certificate2? ParseCertificate(string pem, out string? error)
    {
        error = null;
        try { return X509Certificate2.CreateFromPem(pem); }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            error = "x509.new: " + e.Message;
            return null;
        }
    }

    /// <summary>A private key (PKCS#1, SEC1 or PKCS#8 PEM, RSA or ECDSA: the key types .NET imports from PEM for TLS);
    /// null and the reason when it does not parse.</summary>
    public static AsymmetricAlgorithm? ParseKey(string pem, out string? error)
    {
        error = null;
        foreach (var create in new Func<AsymmetricAlgorithm>[] { RSA.Create, ECDsa.Create })
        {
            var key = create();
            try
            {
                key.ImportFromPem(pem);
                // a public key imports too; Kong's field is a private key (pkey.new loads a public one, but the
                // certificate/key match then fails): refuse it here, with the reason
                if (key is RSA rsa) rsa.ExportParameters(true);
                else if (key is ECDsa ec) ec.ExportParameters(true);
                return key;
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException)
            {
                error = "pkey.new: " + e.Message;
                key.Dispose();
            }
        }
        return null;
    }

    public static string? ValidateCertificate(string pem)
    {
        using var cert = ParseCertificate(pem, out var error);
        return cert is null ? "invalid certificate: " + error : null;
    }

    public static string? ValidateKey(string pem)
    {
        using var key = ParseKey(pem, out var error);
        return key is null ? "invalid key: " + error : null;
    }

    /// <summary>True when the key's public half is the certificate's public key (Kong compares the public PEMs).</summary>
    public static bool Matches(string certPem, string keyPem)
    {
        using var cert = ParseCertificate(certPem, out _);
        using var key = ParseKey(keyPem, out _);
        if (cert is null || key is null) return true; // the field validators report
        return cert.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo());
    }

    /// <summary>The certificate's public key algorithm (RSA, EC...), as Kong's <c>get_key_type</c> tells them apart.</summary>
    public static string? KeyType(string certPem)
    {
        using var cert = ParseCertificate(certPem, out _);
        return cert?.PublicKey.Oid.Value;
    }

    /// <summary>Kong's <c>cert_digest</c>: the SHA-256 of the certificate's DER, lower-case hex.</summary>
    public static string? Sha256Digest(string certPem)
    {
        using var cert = ParseCertificate(certPem, out _);
        return cert is null ? null : Convert.ToHexStringLower(SHA256.HashData(cert.RawData));
    }

    /// <summary>Kong's ca_certificates check: one certificate, not expired, with the CA basic constraint.</summary>
    public static string? ValidateCa(string certPem, DateTimeOffset now)
    {
        const string tag = "-----BEGIN CERTIFICATE-----";
        var first = certPem.IndexOf(tag, StringComparison.Ordinal);
        if (first >= 0 && certPem.IndexOf(tag, first + tag.Length + 1, StringComparison.Ordinal) >= 0)
            return "please submit only one certificate at a time";
        using var cert = ParseCertificate(certPem, out _);
        if (cert is null) return null; // the field validator reports
        if (cert.NotAfter.ToUniversalTime() < now.UtcDateTime) return "certificate expired, \"Not After\" time is in the past";
        var isCa = cert.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);
        return isCa ? null : "certificate does not appear to be a CA because it is missing the \"CA\" basic constraint";
    }
}
