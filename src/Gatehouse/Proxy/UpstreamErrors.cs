using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Proxy;

/// <summary>Maps a YARP forwarding outcome to Kong's answer: timeouts (read, or connect) → 504, any other failure
/// before the response started → 502; client cancellations get no answer.</summary>
internal static class UpstreamErrors
{
    public static LocalResponse? ToResponse(ForwarderError error, Exception? exception)
    {
        switch (error)
        {
            case ForwarderError.None:
            case ForwarderError.RequestCanceled:
            case ForwarderError.RequestBodyCanceled:
            case ForwarderError.RequestBodyClient:
            case ForwarderError.ResponseBodyCanceled:
            case ForwarderError.ResponseBodyClient:
            case ForwarderError.UpgradeRequestCanceled:
            case ForwarderError.UpgradeRequestClient:
            case ForwarderError.UpgradeResponseCanceled:
            case ForwarderError.UpgradeResponseClient:
                return null;
            case ForwarderError.RequestTimedOut:
                return LocalResponse.Message(StatusCodes.Status504GatewayTimeout, ProxyMessages.GatewayTimeout);
            default:
                return IsTimeout(exception)
                    ? LocalResponse.Message(StatusCodes.Status504GatewayTimeout, ProxyMessages.GatewayTimeout)
                    : LocalResponse.Message(StatusCodes.Status502BadGateway, ProxyMessages.BadGateway);
        }
    }

    private static bool IsTimeout(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is TimeoutException) return true;
        return false;
    }
}
