namespace Gatehouse.Proxy.Balancing;

/// <summary>
/// Kong's balancer health (<c>healthchecks.threshold</c>, a percentage 0-100): the upstream as a whole is healthy
/// while the healthy peers' weight is more than that share of the total weight. An unhealthy upstream gets no
/// tries at all, even on its healthy peers (Kong: "Balancer is unhealthy", answered with the same 503).
/// </summary>
public sealed class HealthThresholdBalancer : IBalancer
{
    private readonly IBalancer _inner;
    private readonly IPeerHealth _health;
    private readonly double _threshold;

    public HealthThresholdBalancer(IBalancer inner, IPeerHealth health, double threshold)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(health);
        if (threshold is < 0 or > 100 || double.IsNaN(threshold))
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "the health threshold is a percentage between 0 and 100");
        _inner = inner;
        _health = health;
        _threshold = threshold;
    }

    public IReadOnlyList<BalancerPeer> Peers => _inner.Peers;

    /// <summary>The algorithm's balancer this one guards.</summary>
    public IBalancer Inner => _inner;

    /// <summary>Whether an upstream over <paramref name="peers"/> is healthy at <paramref name="threshold"/>
    /// percent (Kong: healthy weight / total weight x 100 &gt; threshold; no weight at all is unhealthy).</summary>
    public static bool IsHealthy(IReadOnlyList<BalancerPeer> peers, IPeerHealth health, double threshold)
    {
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(health);
        long total = 0, healthy = 0;
        for (var i = 0; i < peers.Count; i++)
        {
            var peer = peers[i];
            total += peer.Weight;
            if (peer.Weight > 0 && health.IsHealthy(peer)) healthy += peer.Weight;
        }
        return total > 0 && healthy * 100.0 / total > threshold;
    }

    public bool IsHealthy() => IsHealthy(_inner.Peers, _health, _threshold);

    public BalancerPeer? Pick(string? hashKey, IReadOnlyCollection<BalancerPeer>? tried) =>
        IsHealthy() ? _inner.Pick(hashKey, tried) : null;

    public void Started(BalancerPeer peer) => _inner.Started(peer);

    public void Finished(BalancerPeer peer, TimeSpan elapsed) => _inner.Finished(peer, elapsed);
}
