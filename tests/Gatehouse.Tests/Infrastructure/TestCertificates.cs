using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>A certificate and its private key as PEM text, as the certificates entities take them.</summary>
internal sealed record PemPair(string Cert, string Key);

/// <summary>Certificates generated for a test (never checked in): self-signed leaves (RSA or ECDSA), CAs, expired CAs.</summary>
internal static class TestCertificates
{
    public static PemPair Rsa(string subject = "CN=rsa.test") => Leaf(RSA.Create(2048), subject);

    public static PemPair Ecdsa(string subject = "CN=ecdsa.test") => Leaf(ECDsa.Create(ECCurve.NamedCurves.nistP256), subject);

    /// <summary>A self-signed CA (basicConstraints CA:TRUE), valid from yesterday for <paramref name="validDays"/>
    /// days after that (negative: already expired).</summary>
    public static PemPair Ca(string subject = "CN=Test CA", int validDays = 30)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        var from = DateTimeOffset.UtcNow.AddDays(validDays < 0 ? validDays - 10 : -1);
        using var cert = request.CreateSelfSigned(from, DateTimeOffset.UtcNow.AddDays(validDays));
        return new PemPair(cert.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>A server leaf for <paramref name="dnsName"/> (its CN and subjectAltName) issued by <paramref name="issuer"/>,
    /// or with <paramref name="ca"/> an intermediate CA named so.</summary>
    public static PemPair IssuedFor(PemPair issuer, string dnsName, bool ca = false) =>
        Issued(issuer, "CN=" + dnsName, ca, dns: ca ? null : [dnsName]);

    /// <summary>A certificate signed by <paramref name="issuer"/> (a <see cref="Ca"/> or another issued CA): a CA itself
    /// when <paramref name="ca"/>, else a leaf with the given DNS and URI subject alternative names.</summary>
    public static PemPair Issued(PemPair issuer, string subject, bool ca = false, string[]? dns = null, string[]? uris = null)
    {
        using var issuerCert = X509Certificate2.CreateFromPem(issuer.Cert, issuer.Key);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(ca, false, 0, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        if (dns is not null || uris is not null)
        {
            var names = new SubjectAlternativeNameBuilder();
            foreach (var name in dns ?? []) names.AddDnsName(name);
            foreach (var uri in uris ?? []) names.AddUri(new Uri(uri));
            request.CertificateExtensions.Add(names.Build());
        }
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7f;
        // within the issuer's validity: a leaf issued by an intermediate made a second earlier must not outlive it
        var notAfter = DateTimeOffset.UtcNow.AddDays(20);
        if (notAfter > issuerCert.NotAfter) notAfter = issuerCert.NotAfter;
        using var cert = request.Create(issuerCert, DateTimeOffset.UtcNow.AddDays(-1), notAfter, serial);
        return new PemPair(cert.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    private static PemPair Leaf(AsymmetricAlgorithm key, string subject)
    {
        using (key)
        {
            var request = key switch
            {
                RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
                ECDsa ec => new CertificateRequest(subject, ec, HashAlgorithmName.SHA256),
                _ => throw new ArgumentException("RSA or ECDSA", nameof(key)),
            };
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            return new PemPair(cert.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
        }
    }
}
