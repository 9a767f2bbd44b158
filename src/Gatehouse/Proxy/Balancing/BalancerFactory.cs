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
    /// <exception cref="NotSupportedException">a Kong algorithm Gatehouse does not implement yet</exception>
    public static IBalancer Create(string algorithm, int slots, IReadOnlyList<BalancerPeer> peers, IPeerHealth health, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(algorithm);
        ArgumentNullException.ThrowIfNull(time);
        return algorithm switch
        {
            RoundRobin => new RoundRobinBalancer(peers, health),
            ConsistentHashing => new ConsistentHashingBalancer(slots, peers, health),
            LeastConnections or Latency =>
                throw new NotSupportedException($"not supported by Gatehouse yet: upstream algorithm '{algorithm}'"),
            _ => throw new ArgumentException($"unknown balancer algorithm '{algorithm}' (expected one of: {RoundRobin}, {ConsistentHashing}, {LeastConnections}, {Latency})", nameof(algorithm)),
        };
    }
}
