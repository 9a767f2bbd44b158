using System.Formats.Asn1;
using System.Globalization;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using ProxyWasm.Http;
using ProxyWasm.Runtime;

namespace Gatehouse.Wasm;

/// <summary>
/// The <c>connection.*</c> properties of the client's connection, as ngx_wasm_module answers them (every value text):
/// <c>id</c> (the accept number, as nginx's connection counter), <c>mtls</c> (<c>true</c> when the client certificate
/// verified, else <c>false</c>), <c>requested_server_name</c> (SNI), <c>tls_version</c> (<c>TLSv1.2</c>/<c>TLSv1.3</c>); not
/// found over plain HTTP, and the SNI not found when the client sent none. Where ngx_wasm_module answers NYI (not
/// found), Gatehouse answers Envoy's meaning: <c>subject_local/peer_certificate</c> (RFC 2253, as nginx's
/// <c>$ssl_client_s_dn</c>), the first DNS or URI SAN of the local or peer certificate, and
/// <c>sha256_peer_certificate_digest</c> (lower-case hex). Certificate values are computed when a filter first asks, and
/// kept for the connection's later requests.
/// </summary>
internal static class ConnectionProperties
{
    public const string Prefix = "connection.";
    private const string CertificatesItemKey = "gatehouse.connection_certificates";

    /// <summary>The property's bytes, or null (not found).</summary>
    /// <remarks>Typed values follow the filter's encoding as every typed property does: <c>connection.id</c> an integer
    /// and <c>connection.mtls</c> a bool (Envoy's 8 bytes / one byte, ngx_wasm_module's text); the rest are strings.</remarks>
    public static byte[]? Get(HttpContext http, string path, PropertyEncoding encoding) => path switch
    {
        "connection.id" => ConnectionActivity.Of(http) is { } activity ? PropertyValues.Int64(activity.Number, encoding) : null,
        "connection.mtls" => Tls(http) is null ? null : PropertyValues.Bool(ClientCertificateVerdict.Of(http)?.Succeeded == true, encoding),
        "connection.requested_server_name" => Tls(http) is null ? null : Text(ListenerKinds.Sni(http)),
        "connection.tls_version" => Tls(http)?.Protocol switch
        {
            SslProtocols.Tls13 => Text("TLSv1.3"),
            SslProtocols.Tls12 => Text("TLSv1.2"),
            _ => null,
        },
        "connection.subject_local_certificate" => Text(Certificates(http)?.Local?.Subject),
        "connection.subject_peer_certificate" => Text(Certificates(http)?.Peer?.Subject),
        "connection.dns_san_local_certificate" => Text(Certificates(http)?.Local?.DnsSan),
        "connection.dns_san_peer_certificate" => Text(Certificates(http)?.Peer?.DnsSan),
        "connection.uri_san_local_certificate" => Text(Certificates(http)?.Local?.UriSan),
        "connection.uri_san_peer_certificate" => Text(Certificates(http)?.Peer?.UriSan),
        "connection.sha256_peer_certificate_digest" => Text(Certificates(http)?.Peer?.Sha256),
        _ => null,
    };

    private static byte[]? Text(string? value) => string.IsNullOrEmpty(value) ? null : Encoding.UTF8.GetBytes(value);

    private static ITlsHandshakeFeature? Tls(HttpContext http) => http.Features.Get<ITlsHandshakeFeature>();

    private static ConnectionCertificates? Certificates(HttpContext http)
    {
        if (Tls(http) is null || http.Features.Get<IConnectionItemsFeature>()?.Items is not { } items) return null;
        if (items.TryGetValue(CertificatesItemKey, out var known) && known is ConnectionCertificates cached) return cached;
        var local = http.Features.Get<ISslStreamFeature>()?.SslStream.LocalCertificate;
        var peer = ClientCertificateVerdict.Of(http)?.Certificate ?? http.Features.Get<ITlsConnectionFeature>()?.ClientCertificate;
        var certificates = new ConnectionCertificates(local, peer);
        items[CertificatesItemKey] = certificates;
        return certificates;
    }

    /// <summary>The connection's two certificates; each one's facts are computed on first read.</summary>
    private sealed class ConnectionCertificates(X509Certificate? local, X509Certificate? peer)
    {
        private readonly Lazy<CertificateFacts?> _local = new(() => CertificateFacts.Of(local));
        private readonly Lazy<CertificateFacts?> _peer = new(() => CertificateFacts.Of(peer));
        public CertificateFacts? Local => _local.Value;
        public CertificateFacts? Peer => _peer.Value;
    }

    private sealed record CertificateFacts(string Subject, string? DnsSan, string? UriSan, string Sha256)
    {
        public static CertificateFacts? Of(X509Certificate? certificate)
        {
            if (certificate is null) return null;
            var der = certificate.GetRawCertData();
            var parsed = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(der);
            var (dns, uri) = FirstSans(parsed);
            return new CertificateFacts(Rfc2253(parsed.SubjectName), dns, uri, Convert.ToHexStringLower(SHA256.HashData(der)));
        }
    }

    /// <summary>OpenSSL's RFC 2253 form (nginx's <c>$ssl_client_s_dn</c>): most specific first, comma-separated.</summary>
    internal static string Rfc2253(X500DistinguishedName name)
    {
        var text = new StringBuilder();
        foreach (var rdn in name.EnumerateRelativeDistinguishedNames(reversed: true))
        {
            if (text.Length > 0) text.Append(',');
            var oid = rdn.HasMultipleElements ? null : rdn.GetSingleElementType();
            var type = oid is null ? null : ShortName(oid.Value!) ?? oid.Value;
            var value = rdn.HasMultipleElements ? null : rdn.GetSingleElementValue();
            if (type is null || value is null)
            {
                text.Append(new X500DistinguishedName(rdn.RawData.Span).Name);
                continue;
            }
            text.Append(type).Append('=');
            for (var i = 0; i < value.Length; i++)
            {
                var c = value[i];
                if (c is ',' or '+' or '"' or '\\' or '<' or '>' or ';' || (i == 0 && c is '#' or ' ') || (i == value.Length - 1 && c == ' '))
                    text.Append('\\');
                text.Append(c);
            }
        }
        return text.ToString();
    }

    private static string? ShortName(string oid) => oid switch
    {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.9" => "street",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        "1.2.840.113549.1.9.1" => "emailAddress",
        _ => null,
    };

    /// <summary>The first dNSName and the first uniformResourceIdentifier of the subjectAltName extension.</summary>
    private static (string? Dns, string? Uri) FirstSans(X509Certificate2 certificate)
    {
        if (certificate.Extensions["2.5.29.17"] is not { } extension) return (null, null);
        string? dns = null, uri = null;
        try
        {
            var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
            while (reader.HasData)
            {
                var tag = reader.PeekTag();
                if (tag.TagClass == TagClass.ContextSpecific && tag.TagValue == 2 && dns is null)
                    dns = reader.ReadCharacterString(UniversalTagNumber.IA5String, tag);
                else if (tag.TagClass == TagClass.ContextSpecific && tag.TagValue == 6 && uri is null)
                    uri = reader.ReadCharacterString(UniversalTagNumber.IA5String, tag);
                else
                    reader.ReadEncodedValue();
            }
        }
        catch (AsnContentException) { } // a malformed extension has no usable names; the handshake already accepted it
        return (dns, uri);
    }
}
