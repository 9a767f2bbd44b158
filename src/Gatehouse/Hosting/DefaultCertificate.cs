using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Hosting;

/// <summary>
/// The certificate of <c>ssl</c> listeners when <c>ssl_cert</c> is not set, as Kong's: self-signed for
/// <c>localhost</c>, generated once under the prefix (<c>ssl/gatehouse-default.crt</c> and <c>.key</c>, the key readable
/// by the owner only) and reused by later starts, so clients that pinned it keep working across restarts.
/// </summary>
internal static class DefaultCertificate
{
    public static (string Cert, string Key) Paths(string prefix) =>
        (Path.Combine(prefix, "ssl", "gatehouse-default.crt"), Path.Combine(prefix, "ssl", "gatehouse-default.key"));

    public static X509Certificate2 LoadOrCreate(string prefix)
    {
        var (certPath, keyPath) = Paths(prefix);
        if (File.Exists(certPath) && File.Exists(keyPath)) return X509Certificate2.CreateFromPemFile(certPath, keyPath);
        Directory.CreateDirectory(Path.GetDirectoryName(certPath)!);
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost, O=Gatehouse", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        // Kong's default is valid for 20 years
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(20));
        var keyPem = key.ExportPkcs8PrivateKeyPem();
        WriteAtomically(keyPath, keyPem, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        WriteAtomically(certPath, certificate.ExportCertificatePem(), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return X509Certificate2.CreateFromPemFile(certPath, keyPath);
    }

    /// <summary>The default's PEM text (generated first when absent), for client_ssl.</summary>
    public static (string Cert, string Key) PemPair(string prefix)
    {
        LoadOrCreate(prefix).Dispose();
        var (certPath, keyPath) = Paths(prefix);
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
