namespace Gatehouse.Proxy.Balancing;

/// <summary>Builds the balancer for an upstream's <c>algorithm</c> (Kong's names).</summary>
public static class BalancerFactory
{
    public const string RoundRobin = "round-robin";
    public const string ConsistentHashing = "consistent-hashing";
    public const string LeastConnections = "least-connections";
    public const string Latency = "latency";

    /// <summary>Kong's ring-balancer slot count default; the schema allows 10-65536.</summary>
    public const int DefaultSlots = 10000;

    /// <exception cref="ArgumentException">the algorithm is not one of Kong's</exception>
    public static IBalancer Create(string algorithm, int slots, IReadOnlyList<BalancerPeer> peers, IPeerHealth health, TimeProvider time) =>
        Create(algorithm, slots, peers, health, time, previous: null);

    /// <summary>As <see cref="Create(string, int, IReadOnlyList{BalancerPeer}, IPeerHealth, TimeProvider)"/>, taking
    /// over <paramref name="previous"/>'s per-peer state when it is the same algorithm (the same upstream's balancer
    /// from the previous snapshot): least-connections keeps counting the tries still in flight there, latency keeps
    /// its averages. Round-robin and consistent-hashing have no such state.</summary>
    /// <param name="healthThreshold">Kong's <c>healthchecks.threshold</c> (percent, 0-100): above 0 the upstream
    /// takes no tries while its healthy weight is not more than this share (<see cref="HealthThresholdBalancer"/>);
    /// 0, Kong's default, adds nothing (no healthy weight already means no peer)</param>
    public static IBalancer Create(string algorithm, int slots, IReadOnlyList<BalancerPeer> peers, IPeerHealth health, TimeProvider time,
        IBalancer? previous, double healthThreshold = 0)
    {
        ArgumentNullException.ThrowIfNull(algorithm);
        ArgumentNullException.ThrowIfNull(time);
        // The previous snapshot's balancer may be wrapped for its threshold: its state is in the inner one.
        previous = previous is HealthThresholdBalancer wrapped ? wrapped.Inner : previous;
        IBalancer balancer = algorithm switch
        {
            RoundRobin => new RoundRobinBalancer(peers, health),
            ConsistentHashing => new ConsistentHashingBalancer(slots, peers, health),
            LeastConnections => new LeastConnectionsBalancer(peers, health, previous),
            Latency => new LatencyBalancer(peers, health, time, previous),
            _ => throw new ArgumentException($"unknown balancer algorithm '{algorithm}' (expected one of: {RoundRobin}, {ConsistentHashing}, {LeastConnections}, {Latency})", nameof(algorithm)),
        };
        return healthThreshold == 0 ? balancer : new HealthThresholdBalancer(balancer, health, healthThreshold);
    }
}
