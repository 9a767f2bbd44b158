using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Proxy;

/// <summary>Maps a YARP forwarding outcome to Kong's answer: timeouts (read, or connect) → 504, any other failure
/// before the response started → 502; what the client caused (it aborted, reset its stream, sent a bad body) gets no
/// answer from here and is logged as the client's doing, not as an upstream error.</summary>
internal static class UpstreamErrors
{
    /// <summary>YARP's outcomes that the client caused: cancelled (aborted connection, HTTP/2 RST_STREAM) or failed
    /// while reading from or writing to the client.</summary>
    public static bool IsClientCaused(ForwarderError error) => error is ForwarderError.RequestCanceled
        or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient
        or ForwarderError.ResponseBodyCanceled or ForwarderError.ResponseBodyClient
        or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeRequestClient
        or ForwarderError.UpgradeResponseCanceled or ForwarderError.UpgradeResponseClient;

    public static LocalResponse? ToResponse(ForwarderError error, Exception? exception)
    {
        if (error == ForwarderError.None || IsClientCaused(error)) return null;
        switch (error)
        {
            case ForwarderError.RequestTimedOut:
                return LocalResponse.Message(StatusCodes.Status504GatewayTimeout, ProxyMessages.GatewayTimeout);
            default:
                return IsTimeout(exception)
                    ? LocalResponse.Message(StatusCodes.Status504GatewayTimeout, ProxyMessages.GatewayTimeout)
                    : LocalResponse.Message(StatusCodes.Status502BadGateway, ProxyMessages.BadGateway);
        }
    }

    /// <summary>The try ran out of time: read timeout, or connect/send timeout (Kong reports these as timeouts to
    /// its health checker, other failures as TCP failures).</summary>
    public static bool IsTimeout(ForwarderError error, Exception? exception) =>
        error == ForwarderError.RequestTimedOut || IsTimeout(exception);

    private static bool IsTimeout(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is TimeoutException) return true;
        return false;
    }
}
