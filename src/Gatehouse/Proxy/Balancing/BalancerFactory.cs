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
    public static IBalancer Create(string algorithm, int slots, IReadOnlyList<BalancerPeer> peers, IPeerHealth health, TimeProvider time, IBalancer? previous)
    {
        ArgumentNullException.ThrowIfNull(algorithm);
        ArgumentNullException.ThrowIfNull(time);
        return algorithm switch
        {
            RoundRobin => new RoundRobinBalancer(peers, health),
            ConsistentHashing => new ConsistentHashingBalancer(slots, peers, health),
            LeastConnections => new LeastConnectionsBalancer(peers, health, previous),
            Latency => new LatencyBalancer(peers, health, time, previous),
            _ => throw new ArgumentException($"unknown balancer algorithm '{algorithm}' (expected one of: {RoundRobin}, {ConsistentHashing}, {LeastConnections}, {Latency})", nameof(algorithm)),
        };
    }
}
