using Gatehouse.Config;
using Gatehouse.Model;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy;

/// <summary>
/// How connections to one service's upstream do TLS, as Kong's runloop sets it per request (upstream_ssl.lua): verify
/// or not, the trust store (the service's ca_certificates, else the global one), the verify depth, and the client
/// certificate (the service's, else its upstream's). A value: services with equal settings share one connection pool,
/// services with different ones never do (<see cref="UpstreamConnector.For"/>). The SNI and the name checked are the
/// Host header sent upstream without its port, as nginx's <c>proxy_ssl_name $upstream_host</c>: SocketsHttpHandler
/// derives both from the request's Host header.
/// </summary>
public sealed record UpstreamTlsProfile(bool Verify, int Depth, string? TrustedPem, string? ClientCertificatePem, string? ClientKeyPem)
{
    /// <summary>No verification, no client certificate: Kong's default, the connector's shared invoker.</summary>
    public static UpstreamTlsProfile None { get; } = new(false, 0, null, null, null);

    /// <summary>The profile of <paramref name="service"/> under <paramref name="config"/>; <see cref="None"/> for plain
    /// http/grpc services. A CA or client certificate id that names nothing is logged and skipped, as Kong does.</summary>
    public static UpstreamTlsProfile For(ServiceModel service, UpstreamModel? upstream, UpstreamTlsDefaults defaults,
        Func<Guid, CertificateModel?> certificate, Func<Guid, CaCertificateModel?> caCertificate, ILogger logger)
    {
        if (service.Protocol is not ("https" or "grpcs")) return None;
        // grpcs goes through nginx's grpc_ssl_* (never set by Kong, off), https through proxy_ssl_*
        var verify = service.TlsVerify ?? (service.Protocol == "https" && defaults.Verify);
        string? trusted = null;
        if (verify && service.CaCertificateIds.Count > 0)
        {
            var pems = new List<string>(service.CaCertificateIds.Count);
            foreach (var id in service.CaCertificateIds)
            {
                if (caCertificate(id) is { } ca) pems.Add(ca.Cert);
                else { pems = null; ProxyLog.UnknownCaCertificate(logger, id, service.Id); break; }
            }
            // Kong: a missing CA leaves the store unset, so the global one applies
            if (pems is not null) trusted = string.Join('\n', pems);
        }
        string? clientCert = null, clientKey = null;
        var clientId = service.ClientCertificateId ?? upstream?.ClientCertificateId;
        if (clientId is { } cid)
        {
            if (certificate(cid) is { } c) (clientCert, clientKey) = (c.Cert, c.Key);
            else ProxyLog.UnknownClientCertificate(logger, cid, service.Id);
        }
        // client_ssl: nginx's proxy_ssl_certificate in Kong's https locations (not @grpc), overridden per request
        if (clientCert is null && service.Protocol == "https" && defaults.ClientCertificatePem is { } globalCert)
            (clientCert, clientKey) = (globalCert, defaults.ClientKeyPem);
        return verify
            ? new UpstreamTlsProfile(true, service.TlsVerifyDepth ?? defaults.Depth, trusted, clientCert, clientKey)
            : clientCert is null ? None : new UpstreamTlsProfile(false, 0, null, clientCert, clientKey);
    }
}

/// <summary>The global upstream TLS settings (gatehouse.conf's nginx_proxy_proxy_ssl_* keys, and client_ssl's
/// certificate: PEM text, null when client_ssl is off).</summary>
public sealed record UpstreamTlsDefaults(bool Verify, int Depth, string? TrustedCertificateFile,
    string? ClientCertificatePem = null, string? ClientKeyPem = null)
{
    /// <param name="defaultClientPair">client_ssl without client_ssl_cert: the self-signed default's PEM pair (Kong
    /// presents kong-default.crt)</param>
    public static UpstreamTlsDefaults From(GatehouseOptions options, Func<(string Cert, string Key)>? defaultClientPair = null)
    {
        (string Cert, string Key)? client = !options.ClientSsl ? null
            : options.ClientSslCert is { } cert && options.ClientSslCertKey is { } key ? (File.ReadAllText(cert), File.ReadAllText(key))
            : defaultClientPair?.Invoke();
        return new(options.ProxySslVerify, options.ProxySslVerifyDepth, options.ProxySslTrustedCertificate, client?.Cert, client?.Key);
    }
}
