using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Hosting;

/// <summary>
/// The certificate of <c>ssl</c> listeners when <c>ssl_cert</c> is not set, as Kong's: self-signed for
/// <c>localhost</c>, an RSA pair and an ECDSA (P-256) pair presented as a certificate's alternative pairs are
/// (<see cref="TlsCredentialPair"/>), generated once under the prefix (<c>ssl/gatehouse-default.crt</c>/<c>.key</c> and
/// <c>ssl/gatehouse-default-ecdsa.crt</c>/<c>.key</c>, keys readable by the owner only) and reused by later starts, so
/// clients that pinned them keep working across restarts.
/// </summary>
internal static class DefaultCertificate
{
    public static (string Cert, string Key) Paths(string prefix, string name = "gatehouse-default") =>
        (Path.Combine(prefix, "ssl", name + ".crt"), Path.Combine(prefix, "ssl", name + ".key"));

    public static TlsCredentialPair LoadOrCreate(string prefix) => new(
        TlsCredential.FromPemFile(EnsureCreated(Paths(prefix), NewRsaKey)),
        TlsCredential.FromPemFile(EnsureCreated(Paths(prefix, "gatehouse-default-ecdsa"), () => ECDsa.Create(ECCurve.NamedCurves.nistP256))));

    private static AsymmetricAlgorithm NewRsaKey() => RSA.Create(2048);

    private static (string Cert, string Key) EnsureCreated((string Cert, string Key) paths, Func<AsymmetricAlgorithm> newKey)
    {
        var (certPath, keyPath) = paths;
        if (File.Exists(certPath) && File.Exists(keyPath)) return paths;
        Directory.CreateDirectory(Path.GetDirectoryName(certPath)!);
        using var key = newKey();
        var request = key switch
        {
            RSA rsa => new CertificateRequest("CN=localhost, O=Gatehouse", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            ECDsa ecdsa => new CertificateRequest("CN=localhost, O=Gatehouse", ecdsa, HashAlgorithmName.SHA256),
            _ => throw new ArgumentException("RSA or ECDSA", nameof(newKey)),
        };
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        // Kong's default is valid for 20 years
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(20));
        var keyPem = key.ExportPkcs8PrivateKeyPem();
        WriteAtomically(keyPath, keyPem, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        WriteAtomically(certPath, certificate.ExportCertificatePem(), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return paths;
    }

    /// <summary>The default RSA pair's PEM text (generated first when absent), for client_ssl.</summary>
    public static (string Cert, string Key) PemPair(string prefix)
    {
        var (certPath, keyPath) = EnsureCreated(Paths(prefix), NewRsaKey);
        return (File.ReadAllText(certPath), File.ReadAllText(keyPath));
    }

    private static void WriteAtomically(string path, string text, UnixFileMode mode)
    {
        var temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = mode;
        using (var stream = new FileStream(temp, options))
        using (var writer = new StreamWriter(stream)) writer.Write(text);
        File.Move(temp, path, overwrite: true);
    }
}
