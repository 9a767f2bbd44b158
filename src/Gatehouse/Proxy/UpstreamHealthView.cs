using Gatehouse.Proxy.Balancing;

namespace Gatehouse.Proxy;

/// <summary>Kong's health words for an upstream's targets and addresses, read from its checker now (the Admin API's
/// health endpoints and the prometheus <c>kong_upstream_target_health</c> gauges): HEALTHY or UNHEALTHY when the
/// upstream has a checker and the target has weight, HEALTHCHECKS_OFF otherwise, DNS_ERROR for a target with no
/// address (Kong's <c>get_upstream_health</c> and <c>page_for_upstream_with_health</c>).</summary>
public static class UpstreamHealthView
{
    public const string Healthy = "HEALTHY", Unhealthy = "UNHEALTHY", Off = "HEALTHCHECKS_OFF", DnsError = "DNS_ERROR";

    /// <summary>Whether the balancer may pick the peer (Kong's address <c>available</c>).</summary>
    public static bool IsAvailable(BalancedUpstream upstream, BalancerPeer peer) =>
        upstream.Checker?.IsHealthy(peer) ?? true;

    public static string OfAddress(BalancedUpstream upstream, BalancerPeer peer) =>
        upstream.Checker is { } checker && peer.Weight > 0 ? checker.IsHealthy(peer) ? Healthy : Unhealthy : Off;

    /// <summary>A target is HEALTHY when any address is, else UNHEALTHY when any address is, else HEALTHCHECKS_OFF.</summary>
    public static string OfTarget(BalancedUpstream upstream, ResolvedTarget target)
    {
        if (!target.Resolved) return DnsError;
        var health = Off;
        foreach (var peer in target.Peers)
        {
            var address = OfAddress(upstream, peer);
            if (address == Healthy) return Healthy;
            if (address == Unhealthy) health = Unhealthy;
        }
        return health;
    }
}
