using ProxyWasm.Runtime;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy;

/// <summary>Source-generated log messages of the proxy path, with stable event ids. Events a client or an upstream can
/// repeat at request rate go through <see cref="LogRateLimiter"/>.</summary>
internal static partial class ProxyLog
{
    [LoggerMessage(1001, LogLevel.Error, "unexpected error while proxying {Method} {Path}")]
    public static partial void UnexpectedError(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(1002, LogLevel.Error, "upstream error {Error} for {Method} {Path} to {Destination}")]
    private static partial void UpstreamErrorCore(ILogger logger, Exception? exception, string error, string method, string path, string destination);

    [LoggerMessage(1010, LogLevel.Error, "upstream TLS: the certificate of {Host} is rejected: {Reason}")]
    public static partial void UpstreamCertificateRejected(ILogger logger, string host, string reason);

    [LoggerMessage(1011, LogLevel.Critical, "upstream TLS: CA certificate {CaCertificateId} of service {ServiceId} does not exist; the global trust store applies")]
    public static partial void UnknownCaCertificate(ILogger logger, Guid caCertificateId, Guid serviceId);

    [LoggerMessage(1012, LogLevel.Error, "upstream TLS: client certificate {CertificateId} for service {ServiceId} does not exist; none is presented")]
    public static partial void UnknownClientCertificate(ILogger logger, Guid certificateId, Guid serviceId);

    [LoggerMessage(1013, LogLevel.Error, "upstream TLS: the client certificate cannot be loaded; none is presented")]
    public static partial void ClientCertificateUnusable(ILogger logger, Exception exception);

    [LoggerMessage(1003, LogLevel.Error, "log handler {Handler} failed")]
    public static partial void LogHandlerFailed(ILogger logger, Exception exception, string handler);

    [LoggerMessage(1004, LogLevel.Error, "response handler failed after the response started; connection aborted")]
    public static partial void ResponseFailedAfterStart(ILogger logger, Exception exception);

    // nginx logs these at info ("client prematurely closed connection", "client sent invalid chunked body"); here they
    // are debug, below the default notice (which maps to .NET's Information). The client's own words, no stack trace.
    [LoggerMessage(1005, LogLevel.Debug, "client error {Error} for {Method} {Path}: {Reason}")]
    private static partial void ClientErrorCore(ILogger logger, string error, string method, string path, string reason);

    // nginx logs "client SSL certificate verify error" (or "client sent no required SSL certificate") at info
    [LoggerMessage(1007, LogLevel.Information, "client certificate refused ({Verify}): answered 400 \"{Message}\"")]
    public static partial void ClientCertificateRefused(ILogger logger, string message, string verify);

    [LoggerMessage(1006, LogLevel.Warning, "try on {Peer} of upstream {Upstream} failed ({Error}); retrying on another peer (retry {Retry})")]
    private static partial void RetryingPeerCore(ILogger logger, string peer, string upstream, string error, int retry);

    /// <summary>A balanced try failed (connect, send, or awaiting the response header) and the request goes to another peer.</summary>
    public static void RetryingPeer(ILogger logger, LogRateLimiter limiter, string peer, string upstream, string error, int retry)
    {
        if (limiter.Admit(logger, LogLevel.Warning, 1006)) RetryingPeerCore(logger, peer, upstream, error, retry);
    }

    /// <summary>A failure on the upstream side (refused, reset, timed out, bad response): an error, with its cause.</summary>
    public static void UpstreamError(ILogger logger, LogRateLimiter limiter, Exception? exception, string error, string method,
        string path, string destination)
    {
        if (limiter.Admit(logger, LogLevel.Error, 1002))
            UpstreamErrorCore(logger, exception, error, method, path, destination);
    }

    /// <summary>Something the client did: aborted, reset its stream, sent a malformed or truncated body.</summary>
    public static void ClientError(ILogger logger, LogRateLimiter limiter, Exception? exception, string error, string method, string path)
    {
        if (limiter.Admit(logger, LogLevel.Debug, 1005))
            ClientErrorCore(logger, error, method, path, Reason(exception));
    }

    /// <summary>The innermost message (e.g. Kestrel's "Invalid chunk size"): what happened, without the stack.</summary>
    private static string Reason(Exception? e)
    {
        if (e is null) return "aborted";
        while (e.InnerException is not null) e = e.InnerException;
        return e.Message;
    }
}
