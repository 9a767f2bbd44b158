namespace Gatehouse.Config;

/// <summary>
/// Client certificates on proxy <c>ssl</c> listeners, from the nginx directives Kong users inject in kong.conf:
/// <c>nginx_proxy_ssl_verify_client</c>, <c>nginx_proxy_ssl_client_certificate</c> and <c>nginx_proxy_ssl_verify_depth</c>
/// (docs/tls.md).
/// </summary>
public sealed record ClientCertificateOptions
{
    public ClientCertificateVerify Verify { get; init; } = ClientCertificateVerify.Off;
    /// <summary>PEM file of the trusted CA certificates; unset, the stored <c>ca_certificates</c> are the trust anchors.</summary>
    public string? CaFile { get; init; }
    /// <summary>nginx's <c>ssl_verify_depth</c> (default 1): how many intermediate CAs may stand between the client's
    /// certificate and a trust anchor.</summary>
    public int Depth { get; init; } = 1;

    internal static ClientCertificateVerify ParseVerify(string v) => v switch
    {
        "off" => ClientCertificateVerify.Off,
        "on" => ClientCertificateVerify.On,
        "optional" => ClientCertificateVerify.Optional,
        "optional_no_ca" => ClientCertificateVerify.OptionalNoCa,
        _ => throw new FormatException($"'{v}' is not one of on, off, optional, optional_no_ca"),
    };
}

/// <summary>nginx's <c>ssl_verify_client</c> modes.</summary>
public enum ClientCertificateVerify { Off, On, Optional, OptionalNoCa }
