using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Hosting;

/// <summary>
/// A certificate as a handshake presents it: the leaf with its private key and the intermediates that followed it in
/// the PEM (sent with it, as nginx sends a <c>ssl_certificate</c> chain), prepared once
/// (<see cref="SslStreamCertificateContext"/>) rather than on every handshake; and, for an ECDSA key, its curve.
/// </summary>
internal sealed class TlsCredential
{
    private TlsCredential(X509Certificate2 leaf, SslStreamCertificateContext context, EcdsaCurves curve)
    {
        Leaf = leaf;
        Context = context;
        Curve = curve;
    }

    public X509Certificate2 Leaf { get; }
    public SslStreamCertificateContext Context { get; }

    /// <summary>The curve of an ECDSA key; <see cref="EcdsaCurves.None"/> for RSA (or a curve TLS 1.3 cannot name).</summary>
    public EcdsaCurves Curve { get; }

    public bool IsEcdsa { get; private init; }

    /// <summary>Throws <see cref="CryptographicException"/> or <see cref="ArgumentException"/> for a PEM that does not load.</summary>
    public static TlsCredential FromPem(string certPem, string keyPem)
    {
        var leaf = X509Certificate2.CreateFromPem(certPem, keyPem);
        var all = new X509Certificate2Collection();
        all.ImportFromPem(certPem);
        var intermediates = new X509Certificate2Collection();
        foreach (var certificate in all)
            if (!certificate.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span)) intermediates.Add(certificate);
        // offline: the chain is what the PEM holds, nothing is downloaded
        var context = SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
        using var ecdsa = leaf.GetECDsaPublicKey();
        return new TlsCredential(leaf, context, ecdsa is null ? EcdsaCurves.None : CurveOf(ecdsa)) { IsEcdsa = ecdsa is not null };
    }

    public static TlsCredential FromPemFile(string certPath, string? keyPath) =>
        FromPem(File.ReadAllText(certPath), File.ReadAllText(keyPath ?? certPath));

    public static TlsCredential FromPemFile((string Cert, string Key) paths) => FromPemFile(paths.Cert, paths.Key);

    private static EcdsaCurves CurveOf(ECDsa key) => key.ExportParameters(false).Curve.Oid.Value switch
    {
        "1.2.840.10045.3.1.7" => EcdsaCurves.P256,
        "1.3.132.0.34" => EcdsaCurves.P384,
        "1.3.132.0.35" => EcdsaCurves.P521,
        _ => EcdsaCurves.None,
    };
}

/// <summary>
/// A certificate entity's pairs: <c>cert</c>/<c>key</c> and, when set, <c>cert_alt</c>/<c>key_alt</c> of the other key
/// type. As OpenSSL with both loaded: the ECDSA pair goes to a client that can verify it, the RSA pair to the others.
/// </summary>
internal sealed class TlsCredentialPair(TlsCredential primary, TlsCredential? alternative)
{
    private readonly TlsCredential? _ecdsa = alternative is null ? null : primary.IsEcdsa ? primary : alternative;
    private readonly TlsCredential? _rsa = alternative is null ? null : primary.IsEcdsa ? alternative : primary;

    public TlsCredential Primary { get; } = primary;
    public TlsCredential? Alternative { get; } = alternative;

    /// <param name="accepted">the curves the client's hello can verify (<see cref="EcdsaCurves.None"/> when unknown)</param>
    public TlsCredential Choose(EcdsaCurves accepted) =>
        _ecdsa is null ? Primary : (accepted & _ecdsa.Curve) != 0 ? _ecdsa : _rsa!;
}
