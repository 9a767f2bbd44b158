using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Config;
using Gatehouse.Model;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Gatehouse.Hosting;

/// <summary>
/// nginx's <c>ssl_verify_client</c> on the proxy's <c>ssl</c> listeners: the handshake asks for a certificate and never
/// fails over it; the certificate is verified against the trust anchors (<c>nginx_proxy_ssl_client_certificate</c>, else
/// the stored <c>ca_certificates</c>), with the intermediates the client sent, at most <c>nginx_proxy_ssl_verify_depth</c>
/// of them, and the verdict is kept on the connection (<see cref="ClientCertificateVerdict"/>): the proxy answers its
/// requests 400 as nginx when the mode refuses it. Verified once per connection, in the handshake.
/// </summary>
internal sealed class ClientCertificateVerifier
{
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");
    private readonly ClientCertificateOptions _options;
    private readonly X509Certificate2Collection? _fileAnchors;
    private readonly Func<GatewayConfig> _config;
    private StoredAnchors? _stored;
    // verdicts between the handshake's callback and the connection middleware after it, keyed by the certificate instance
    private readonly ConditionalWeakTable<X509Certificate2, ClientCertificateVerdict> _pending = new();

    private ClientCertificateVerifier(ClientCertificateOptions options, X509Certificate2Collection? fileAnchors, Func<GatewayConfig> config)
    {
        _options = options;
        _fileAnchors = fileAnchors;
        _config = config;
    }

    /// <summary>Null when client certificates are not asked for; loads the CA file now, so a bad file stops the start.</summary>
    public static ClientCertificateVerifier? Create(ClientCertificateOptions options, Func<GatewayConfig> config)
    {
        if (options.Verify == ClientCertificateVerify.Off) return null;
        X509Certificate2Collection? anchors = null;
        if (options.CaFile is { } file)
        {
            anchors = [];
            try { anchors.ImportFromPemFile(file); }
            catch (Exception e) when (e is IOException or CryptographicException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"nginx_proxy_ssl_client_certificate: cannot read '{file}': {e.Message}", e);
            }
            if (anchors.Count == 0)
                throw new InvalidOperationException($"nginx_proxy_ssl_client_certificate: no PEM certificate in '{file}'");
        }
        return new ClientCertificateVerifier(options, anchors, config);
    }

    /// <summary>The handshake's certificate check (the listener asks for a certificate): never refuses the handshake;
    /// verifies the certificate where the intermediates the client sent are known (the callback does not see the
    /// connection: the verdict waits beside the certificate until <see cref="Record"/> moves it onto the connection).</summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, System.Net.Security.SslPolicyErrors errors)
    {
        if (certificate is X509Certificate2 sent) _pending.AddOrUpdate(sent, Verify(sent, chain));
        return true;
    }

    /// <summary>After the handshake: the verdict of the certificate the connection presented (none, if it sent none).</summary>
    public void Record(ConnectionContext connection)
    {
        var certificate = connection.Features.Get<ITlsConnectionFeature>()?.ClientCertificate;
        ClientCertificateVerdict verdict;
        if (certificate is null) verdict = ClientCertificateVerdict.None(_options.Verify == ClientCertificateVerify.On);
        else if (_pending.TryGetValue(certificate, out var verified))
        {
            verdict = verified;
            _pending.Remove(certificate);
        }
        else verdict = Verify(certificate, null); // not seen by the callback: verified without the client's intermediates
        connection.Items[ClientCertificateVerdict.ItemKey] = verdict;
    }

    internal ClientCertificateVerdict Verify(X509Certificate? sent, X509Chain? sentChain)
    {
        if (sent is null) return ClientCertificateVerdict.None(_options.Verify == ClientCertificateVerify.On);
        var leaf = sent as X509Certificate2 ?? new X509Certificate2(sent);
        // a certificate with an extended key usage must allow clientAuth (OpenSSL's purpose check)
        using var chain = TrustChain.Build(leaf, sentChain, Anchors(), ClientAuthentication, out var trusted);
        if (trusted)
        {
            return TrustChain.Intermediates(chain) > _options.Depth
                ? ClientCertificateVerdict.Failed(leaf, "certificate chain too long", refused: true)
                : ClientCertificateVerdict.Success(leaf);
        }
        var flags = chain.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (all, s) => all | s.Status);
        // optional_no_ca: a certificate no anchor vouches for passes (still not SUCCESS); an expired or broken one does not
        var onlyUnknownIssuer = (flags & ~(X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) == 0;
        var refused = !(_options.Verify == ClientCertificateVerify.OptionalNoCa && onlyUnknownIssuer);
        return ClientCertificateVerdict.Failed(leaf, Reason(flags, leaf), refused);
    }

    /// <summary>OpenSSL's words for the first problem, as <c>$ssl_client_verify</c> shows them.</summary>
    private static string Reason(X509ChainStatusFlags flags, X509Certificate2 leaf) =>
        (flags & X509ChainStatusFlags.NotTimeValid) != 0
            ? (leaf.NotBefore.ToUniversalTime() > DateTime.UtcNow ? "certificate is not yet valid" : "certificate has expired")
        : (flags & X509ChainStatusFlags.NotSignatureValid) != 0 ? "certificate signature failure"
        : (flags & X509ChainStatusFlags.NotValidForUsage) != 0 ? "unsupported certificate purpose"
        : (flags & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0
            ? (leaf.SubjectName.RawData.AsSpan().SequenceEqual(leaf.IssuerName.RawData) ? "self-signed certificate" : "unable to get local issuer certificate")
        : "certificate verify failed";

    private X509Certificate2Collection Anchors()
    {
        if (_fileAnchors is not null) return _fileAnchors;
        // the stored ca_certificates of the current configuration, parsed again only when a new one is published
        var config = _config();
        var stored = Volatile.Read(ref _stored);
        if (stored is not null && ReferenceEquals(stored.Config, config)) return stored.Certificates;
        var built = new StoredAnchors(config, [.. config.CaCertificates.Select(c => X509Certificate2.CreateFromPem(c.Cert))]);
        Volatile.Write(ref _stored, built);
        return built.Certificates;
    }

    private sealed record StoredAnchors(GatewayConfig Config, X509Certificate2Collection Certificates);
}
