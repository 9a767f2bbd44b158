namespace Gatehouse.Proxy.Balancing;

/// <summary>The peers of one balancer with the checks every algorithm shares: which peers may take a try now, and
/// a weighted choice among them. Allocation-free; reads health on every call (health changes between snapshots).</summary>
internal sealed class PeerSet
{
    public const int MaxWeight = 65535;

    private readonly IPeerHealth _health;

    public PeerSet(IReadOnlyList<BalancerPeer> peers, IPeerHealth health)
    {
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(health);
        var copy = new BalancerPeer[peers.Count];
        for (var i = 0; i < copy.Length; i++)
        {
            var peer = peers[i] ?? throw new ArgumentException("a balancer peer is null", nameof(peers));
            if (peer.Weight is < 0 or > MaxWeight)
                throw new ArgumentException($"peer {peer.Target} ({peer.Endpoint}) has weight {peer.Weight}; weights are 0-{MaxWeight}", nameof(peers));
            copy[i] = peer;
        }
        Peers = copy;
        _health = health;
    }

    public BalancerPeer[] Peers { get; }

    /// <summary>Weight above 0 and healthy: the peer may take traffic.</summary>
    public bool IsUp(BalancerPeer peer) => peer.Weight > 0 && _health.IsHealthy(peer);

    /// <summary>Up and not tried yet by this request.</summary>
    public bool IsAvailable(BalancerPeer peer, IReadOnlyCollection<BalancerPeer>? tried) => IsUp(peer) && !WasTried(tried, peer);

    /// <summary>Whether an earlier try of the request used <paramref name="peer"/>. Concrete collections are read
    /// without an enumerator so a retry does not allocate either.</summary>
    public static bool WasTried(IReadOnlyCollection<BalancerPeer>? tried, BalancerPeer peer)
    {
        if (tried is null || tried.Count == 0) return false;
        switch (tried)
        {
            case BalancerPeer[] array:
                foreach (var t in array) if (t.Equals(peer)) return true;
                return false;
            case List<BalancerPeer> list:
                for (var i = 0; i < list.Count; i++) if (list[i].Equals(peer)) return true;
                return false;
            case ICollection<BalancerPeer> collection:
                return collection.Contains(peer);
            default:
                foreach (var t in tried) if (t.Equals(peer)) return true;
                return false;
        }
    }

    /// <summary>A peer chosen with probability proportional to its weight among the available peers, by
    /// <paramref name="random"/> (any well-mixed number). When every up peer was already tried, the choice is
    /// among those: a retry lands on a peer already tried only when no other can take it (Kong retries on the
    /// same target when it is the only one). Null when no peer is up.</summary>
    public BalancerPeer? PickWeighted(ulong random, IReadOnlyCollection<BalancerPeer>? tried)
    {
        var peer = PickWeightedAmong(random, tried);
        return peer ?? (tried is { Count: > 0 } ? PickWeightedAmong(random, null) : null);
    }

    private BalancerPeer? PickWeightedAmong(ulong random, IReadOnlyCollection<BalancerPeer>? tried)
    {
        long total = 0;
        foreach (var peer in Peers) if (IsAvailable(peer, tried)) total += peer.Weight;
        if (total == 0) return null;
        var point = (long)(random % (ulong)total);
        BalancerPeer? last = null;
        foreach (var peer in Peers)
        {
            if (!IsAvailable(peer, tried)) continue;
            last = peer;
            point -= peer.Weight;
            if (point < 0) return peer;
        }
        return last; // health changed between the two passes: any available peer will do
    }

    /// <summary>SplitMix64's finaliser: spreads consecutive counters over the whole range.</summary>
    public static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
