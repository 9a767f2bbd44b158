using Gatehouse.Proxy.Pipeline;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Proxy;

/// <summary>
/// nginx's <c>proxy_next_upstream error timeout</c>, as Kong runs it (up to service.retries more tries): whether a
/// failed try of a balanced request may go on to the next peer. An error or a timeout while connecting, sending the
/// request or awaiting the response header qualifies, unless the request was sent and cannot be sent again: a
/// POST, LOCK or PATCH (nginx ≥ 1.9.13 without <c>non_idempotent</c>, which Kong does not set), or a body that was
/// streamed (request_buffering off: nginx's <c>request_body_no_buffering</c>). A response header that arrived ends
/// the choice: an invalid header or a 5xx is not retried (Kong does not list <c>http_5xx</c>).
/// </summary>
internal static class NextUpstream
{
    /// <param name="bodyResendable">The request has no body, or its whole body is held (request_buffering).</param>
    public static bool Allows(ProxyContext context, ForwarderError error, Exception? exception, bool bodyResendable)
    {
        if (context.UpstreamStatus is not null || context.HttpContext.Response.HasStarted) return false;
        // the connection could not be opened (refused, unreachable, connect_timeout): nothing was sent
        if (UpstreamConnectException.IsIn(exception)) return true;
        // the TLS handshake failed (certificate rejected, client certificate demanded): nothing was sent either
        if (IsHandshakeFailure(exception)) return true;
        if (error is not (ForwarderError.Request or ForwarderError.RequestTimedOut or ForwarderError.RequestBodyDestination)
            || IsInvalidResponse(exception))
            return false;
        return bodyResendable && !IsNonIdempotent(context.HttpContext.Request.Method);
    }

    private static bool IsHandshakeFailure(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is System.Security.Authentication.AuthenticationException) return true;
        return false;
    }

    /// <summary>The upstream answered something that is not an HTTP response head (nginx's invalid_header).</summary>
    private static bool IsInvalidResponse(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is HttpRequestException { HttpRequestError: HttpRequestError.InvalidResponse }) return true;
        return false;
    }

    /// <summary>nginx's NGX_HTTP_POST | NGX_HTTP_LOCK | NGX_HTTP_PATCH; its parser knows methods in upper case only.</summary>
    private static bool IsNonIdempotent(string method) =>
        method is "POST" or "PATCH" or "LOCK";
}
