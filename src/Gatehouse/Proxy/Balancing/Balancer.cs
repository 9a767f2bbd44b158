using System.Net;

namespace Gatehouse.Proxy.Balancing;

/// <summary>One address a balancer can pick for an upstream: a target's resolved IP address and port, with the
/// target's weight (Kong spreads a target's weight over the addresses its name resolves to). Immutable; a new
/// set of peers comes with a new configuration snapshot or a DNS refresh.</summary>
/// <param name="TargetId">the target entity's id</param>
/// <param name="Target">the target as configured (<c>host:port</c>), for logs, health endpoints and metrics</param>
public sealed record BalancerPeer(string TargetId, string Target, IPAddress Address, int Port, int Weight)
{
    /// <summary><c>address:port</c> as Kong's health endpoints and <c>upstream.address</c> show it.</summary>
    public string Endpoint => Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
        ? $"[{Address}]:{Port}" : $"{Address}:{Port}";
}

/// <summary>Whether a peer may take traffic now (health checks). Read on every pick: must be cheap and lock-free.</summary>
public interface IPeerHealth
{
    bool IsHealthy(BalancerPeer peer);
}

/// <summary>A balancer over one upstream's peers (Kong's ring-balancer and its algorithms). One instance per
/// upstream per snapshot; thread-safe; no lock and no allocation on <see cref="Pick"/> in the common case.</summary>
public interface IBalancer
{
    /// <summary>The peers this balancer spreads over (weight 0 included: it takes no traffic).</summary>
    IReadOnlyList<BalancerPeer> Peers { get; }

    /// <summary>Picks the peer for one try of a request, skipping unhealthy peers, weight-0 peers and the peers in
    /// <paramref name="tried"/> (earlier tries of the same request: a retry goes to another peer when there is
    /// one). <paramref name="hashKey"/> is the value of hash_on/hash_fallback for consistent-hashing (null: none
    /// found; consistent-hashing then hashes the empty string, as Kong 3.9 does, so such requests share one peer). Null when no peer is available (Kong's 503
    /// "failure to get a peer from the ring-balancer").</summary>
    BalancerPeer? Pick(string? hashKey, IReadOnlyCollection<BalancerPeer>? tried);

    /// <summary>A try on <paramref name="peer"/> started (least-connections counts it).</summary>
    void Started(BalancerPeer peer);

    /// <summary>A try on <paramref name="peer"/> ended after <paramref name="elapsed"/> (least-connections uncounts
    /// it; latency feeds its EWMA).</summary>
    void Finished(BalancerPeer peer, TimeSpan elapsed);
}
