using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Proxy;

/// <summary>
/// Chain verification as OpenSSL does it for nginx, shared by the upstream check (<c>proxy_ssl_verify</c>,
/// <see cref="UpstreamCertificateCheck"/>) and the client check (<c>ssl_verify_client</c>, Hosting's
/// ClientCertificateVerifier): only the given anchors are trusted (no system store), the intermediates the peer sent
/// are used, nothing is downloaded and no revocation is checked (nginx without <c>ssl_crl</c>/<c>ssl_ocsp</c>).
/// </summary>
internal static class TrustChain
{
    /// <summary>The chain of <paramref name="leaf"/>; <paramref name="trusted"/> tells whether it ends at an anchor.
    /// The caller disposes it.</summary>
    /// <param name="sent">the chain the TLS layer built from what the peer sent (its intermediates), if any</param>
    /// <param name="purpose">an extended key usage the leaf must allow when it names any (OpenSSL's purpose check)</param>
    public static X509Chain Build(X509Certificate2 leaf, X509Chain? sent, X509Certificate2Collection anchors, Oid? purpose, out bool trusted)
    {
        var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.AddRange(anchors);
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        if (purpose is not null) policy.ApplicationPolicy.Add(purpose);
        if (sent is not null)
        {
            policy.ExtraStore.AddRange(sent.ChainPolicy.ExtraStore);
            foreach (var element in sent.ChainElements)
                if (!element.Certificate.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span)) policy.ExtraStore.Add(element.Certificate);
        }
        trusted = chain.Build(leaf);
        return chain;
    }

    /// <summary>OpenSSL's verify depth of a built chain: the intermediate CAs between the leaf and the anchor (0 for a
    /// leaf issued by an anchor, or that is one).</summary>
    public static int Intermediates(X509Chain chain) => Math.Max(0, chain.ChainElements.Count - 2);
}
