using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Proxy;

/// <summary>
/// Verifies an upstream's certificate as nginx's <c>proxy_ssl_verify on</c>: the chain must end at a certificate of
/// the trust store (and nothing else: the system store is not consulted, as nginx without
/// <c>proxy_ssl_trusted_certificate</c> trusts nothing), hold at most <c>depth</c> intermediate CAs (OpenSSL's verify
/// depth: 0 = the leaf is issued by a trusted certificate or is one), and name the host (the SNI sent).
/// </summary>
internal static class UpstreamCertificateCheck
{
    /// <summary>Why the certificate is rejected, or null when it passes.</summary>
    public static string? Reject(X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors,
        X509Certificate2Collection trust, int depth)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
            return "no certificate presented";
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            return "certificate does not match the host name";
        using var leaf = new X509Certificate2(certificate);
        using var chain = TrustChain.Build(leaf, presented, trust, purpose: null, out var trusted);
        if (!trusted)
        {
            var status = chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct();
            return trust.Count == 0
                ? "no trusted CA certificates (the service has no ca_certificates and nginx_proxy_proxy_ssl_trusted_certificate is not set)"
                : "certificate chain not trusted: " + string.Join("; ", status);
        }
        var intermediates = TrustChain.Intermediates(chain);
        return intermediates > depth
            ? $"certificate chain too long: {intermediates} intermediate CA certificates, verify depth {depth}"
            : null;
    }
}
