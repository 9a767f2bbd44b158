using Gatehouse.Proxy.Balancing;
using Gatehouse.Proxy.Balancing.Health;
using Gatehouse.Proxy.Pipeline;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Proxy;

/// <summary>Passive health checks: tells an upstream's checker how one try on a peer went, as Kong's balancer does
/// after each try. A response reports its status; a failure before any response reports a timeout or a TCP failure;
/// what the client caused reports nothing.</summary>
internal static class PassiveHealthReport
{
    public static void Report(HealthChecker checker, BalancerPeer peer, ForwarderError error, ProxyContext context)
    {
        if (context.UpstreamStatus is { } status)
        {
            checker.ReportHttpStatus(peer, status);
            return;
        }
        if (error == ForwarderError.None || UpstreamErrors.IsClientCaused(error)) return;
        var exception = context.HttpContext.Features.Get<IForwarderErrorFeature>()?.Exception;
        if (UpstreamErrors.IsTimeout(error, exception)) checker.ReportTimeout(peer);
        else checker.ReportTcpFailure(peer);
    }
}
