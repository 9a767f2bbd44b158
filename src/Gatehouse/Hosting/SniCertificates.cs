using System.Collections.Frozen;
using System.Security.Cryptography;
using Gatehouse.Model;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting;

/// <summary>
/// The certificate a proxy TLS handshake presents, chosen from the published configuration's <c>snis</c> as Kong's
/// certificate phase does: the SNI named exactly as the client's server name; else the wildcard with the first label
/// replaced (<c>*.example.com</c> for <c>a.example.com</c>); else the one with the last label replaced
/// (<c>example.*</c>); else the listener's default (<c>ssl_cert</c>). Follows configuration changes without a restart:
/// the lookup is rebuilt when a new configuration is published, parsing again only certificates that changed.
/// A certificate with an alternative pair (<c>cert_alt</c>/<c>key_alt</c>) presents its ECDSA pair to clients whose
/// ClientHello can verify it and its RSA pair to the others (<see cref="TlsCredentialPair"/>, docs/tls.md).
/// A certificate whose PEM does not load (a vault reference that did not resolve, or resolved to something that is not
/// PEM) is left out and logged: its SNIs get the default certificate, the handshake does not fail.
/// </summary>
internal sealed partial class SniCertificates
{
    private readonly Func<GatewayConfig> _config;
    private readonly TlsCredentialPair? _default;
    private readonly Func<ILogger> _logger;
    private Lookup? _lookup;

    /// <param name="defaultCertificate">ssl_cert (or the self-signed default): what a name no SNI matches gets</param>
    /// <param name="logger">asked for when a certificate does not load (the host's services exist by then)</param>
    public SniCertificates(Func<GatewayConfig> config, TlsCredentialPair? defaultCertificate, Func<ILogger>? logger = null)
    {
        _config = config ?? throw new ArgumentNullException(nameof(config));
        _default = defaultCertificate;
        _logger = logger ?? (() => Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
    }

    /// <param name="accepted">the ECDSA curves the client's hello can verify (<see cref="EcdsaCurves.None"/> when unknown)</param>
    public TlsCredential? Select(string? serverName, EcdsaCurves accepted) => Find(serverName)?.Choose(accepted);

    private TlsCredentialPair? Find(string? serverName)
    {
        var lookup = Current();
        if (!string.IsNullOrEmpty(serverName))
        {
            var name = serverName.TrimEnd('.').ToLowerInvariant();
            if (lookup.ByName.TryGetValue(name, out var exact)) return exact;
            var firstDot = name.IndexOf('.');
            if (firstDot > 0 && lookup.ByName.TryGetValue(string.Concat("*", name.AsSpan(firstDot)), out var prefix)) return prefix;
            var lastDot = name.LastIndexOf('.');
            if (lastDot > 0 && lookup.ByName.TryGetValue(string.Concat(name.AsSpan(0, lastDot), ".*"), out var suffix)) return suffix;
            // Kong's DEFAULT_SNI: an SNI named "*" serves every server name no other SNI matches (not a hello without one)
            if (lookup.ByName.TryGetValue("*", out var any)) return any;
        }
        return _default;
    }

    private Lookup Current()
    {
        var config = _config();
        var lookup = Volatile.Read(ref _lookup);
        if (lookup is not null && ReferenceEquals(lookup.Config, config)) return lookup;
        var built = Build(config, lookup);
        Interlocked.CompareExchange(ref _lookup, built, lookup);
        return built;
    }

    private Lookup Build(GatewayConfig config, Lookup? previous)
    {
        var parsed = new Dictionary<Guid, (CertificateModel Model, TlsCredentialPair Certificate)>();
        foreach (var model in config.Certificates)
        {
            // unchanged PEM: keep the parsed certificate (and its private key) of the previous configuration
            if (previous is not null && previous.Parsed.TryGetValue(model.Id, out var known)
                && known.Model.Cert == model.Cert && known.Model.Key == model.Key
                && known.Model.CertAlt == model.CertAlt && known.Model.KeyAlt == model.KeyAlt)
            {
                parsed[model.Id] = (model, known.Certificate);
                continue;
            }
            try
            {
                var alternative = model.CertAlt is not null && model.KeyAlt is not null ? TlsCredential.FromPem(model.CertAlt, model.KeyAlt) : null;
                parsed[model.Id] = (model, new TlsCredentialPair(TlsCredential.FromPem(model.Cert, model.Key), alternative));
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException) { LogUnusable(_logger(), model.Id, e.Message); }
        }
        var byName = config.Snis
            .Where(s => parsed.ContainsKey(s.CertificateId))
            .ToFrozenDictionary(s => s.Name.ToLowerInvariant(), s => parsed[s.CertificateId].Certificate, StringComparer.Ordinal);
        return new Lookup(config, parsed, byName);
    }

    [LoggerMessage(EventId = 1220, Level = LogLevel.Error,
        Message = "certificate {Id} cannot be loaded ({Reason}); its SNIs get the default certificate")]
    private static partial void LogUnusable(ILogger logger, Guid id, string reason);

    private sealed record Lookup(GatewayConfig Config, Dictionary<Guid, (CertificateModel Model, TlsCredentialPair Certificate)> Parsed,
        FrozenDictionary<string, TlsCredentialPair> ByName);
}
