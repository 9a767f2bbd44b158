using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy;

/// <summary>Source-generated log messages of the proxy path, with stable event ids.</summary>
internal static partial class ProxyLog
{
    [LoggerMessage(1001, LogLevel.Error, "unexpected error while proxying {Method} {Path}")]
    public static partial void UnexpectedError(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(1002, LogLevel.Error, "upstream error {Error} for {Method} {Path} to {Destination}")]
    public static partial void UpstreamError(ILogger logger, Exception? exception, string error, string method, string path, string destination);

    [LoggerMessage(1003, LogLevel.Error, "log handler {Handler} failed")]
    public static partial void LogHandlerFailed(ILogger logger, Exception exception, string handler);

    [LoggerMessage(1004, LogLevel.Error, "response handler failed after the response started; connection aborted")]
    public static partial void ResponseFailedAfterStart(ILogger logger, Exception exception);
}
