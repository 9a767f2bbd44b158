namespace Gatehouse.Proxy;

/// <summary>Kong's exact error messages, in one place.</summary>
public static class ProxyMessages
{
    public const string BadRequest = "Bad request";
    public const string NoRoute = "no Route matched with those values";
    public const string NoService = "no Service found with those values";
    public const string BadGateway = "An invalid response was received from the upstream server";
    public const string GatewayTimeout = "The upstream server is timing out";
    public const string UseHttps = "Please use HTTPS protocol";
    /// <summary>nginx's 400 pages for ssl_verify_client: <c>on</c> without a certificate, and a certificate that failed.</summary>
    public const string NoClientCertificate = "No required SSL certificate was sent";
    public const string ClientCertificateError = "The SSL certificate error";
    public const string Unexpected = "An unexpected error occurred";
    /// <summary>A balanced service whose upstream has no peer to offer (no target resolved, all weight 0 or unhealthy).</summary>
    public const string NoPeer = "failure to get a peer from the ring-balancer";

    /// <summary>Kong's message for a request Kestrel found malformed (<c>BadHttpRequestException.StatusCode</c>).</summary>
    public static string ForBadRequest(int status) => status switch
    {
        408 => "Request timeout",
        413 => "Request size limit exceeded",
        _ => BadRequest,
    };
}
