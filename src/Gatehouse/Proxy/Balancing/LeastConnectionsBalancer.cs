namespace Gatehouse.Proxy.Balancing;

/// <summary>
/// Kong's <c>least-connections</c>: the peer with the lowest (tries in flight + 1) / weight takes the next try
/// (the +1 makes the heaviest peer go first when all are idle). Ties go to whichever comes first from a start
/// point that moves on every pick, so equal peers share evenly. Counts change with
/// <see cref="Interlocked"/> in <see cref="Started"/>/<see cref="Finished"/>; a pick reads every peer's count
/// (O(peers), no lock, no allocation) instead of keeping Kong's heap, which would need a lock.
/// </summary>
public sealed class LeastConnectionsBalancer : IBalancer
{
    private readonly PeerSet _set;
    private readonly PeerLoads _loads;
    private long _rotor;

    /// <param name="previous">the balancer this one replaces (previous snapshot), whose in-flight counts carry
    /// over for the peers still present; null for none</param>
    public LeastConnectionsBalancer(IReadOnlyList<BalancerPeer> peers, IPeerHealth health, IBalancer? previous = null)
    {
        _set = new PeerSet(peers, health);
        _loads = new PeerLoads(_set.Peers, (previous as LeastConnectionsBalancer)?._loads);
    }

    public IReadOnlyList<BalancerPeer> Peers => _set.Peers;

    internal int InFlight(BalancerPeer peer) => _loads.Of(peer)?.InFlight ?? 0;

    public BalancerPeer? Pick(string? hashKey, IReadOnlyCollection<BalancerPeer>? tried)
    {
        var peers = _set.Peers;
        if (peers.Length == 0) return null;
        var start = (int)((ulong)Interlocked.Increment(ref _rotor) % (uint)peers.Length);
        // Every peer tried already: the least loaded of them again (Kong starts over with the failed ones).
        return Least(start, tried) ?? (tried is { Count: > 0 } ? Least(start, null) : null);
    }

    private BalancerPeer? Least(int start, IReadOnlyCollection<BalancerPeer>? tried)
    {
        var peers = _set.Peers;
        var best = -1;
        long bestLoad = 0;
        for (var k = 0; k < peers.Length; k++)
        {
            var i = start + k < peers.Length ? start + k : start + k - peers.Length;
            if (!_set.IsAvailable(peers[i], tried)) continue;
            var load = _loads.Loads[i].InFlight + 1L;
            // load/weight < bestLoad/bestWeight, without division
            if (best < 0 || load * peers[best].Weight < bestLoad * peers[i].Weight)
            {
                best = i;
                bestLoad = load;
            }
        }
        return best < 0 ? null : peers[best];
    }

    public void Started(BalancerPeer peer) => _loads.Of(peer)?.Started();

    public void Finished(BalancerPeer peer, TimeSpan elapsed) => _loads.Of(peer)?.Finished();
}
