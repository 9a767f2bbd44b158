namespace Gatehouse.Proxy.Balancing;

/// <summary>
/// Kong's <c>consistent-hashing</c>: a ring of <c>slots</c> positions (at least 1000, as in Kong) on which every
/// peer owns points in proportion to its weight (160 per target when all weigh the same, Kong's Ketama-style
/// continuum). A key goes through xxHash32 to a position and is served by the first point at or before it; a peer
/// that is down or already tried passes its keys on to the next point's peer going backwards, so they move to
/// the same place every time. Adding or removing one of N peers moves about 1/N of the keys. The ring is
/// computed once per snapshot; a pick hashes the key and reads two arrays: lock-free and allocation-free.
/// </summary>
public sealed class ConsistentHashingBalancer : IBalancer
{
    /// <summary>Kong's SERVER_POINTS: points per target when all targets have the same weight.</summary>
    internal const int PointsPerTarget = 160;
    /// <summary>Kong's minimum continuum size: smaller <c>slots</c> values give a ring of this size.</summary>
    internal const int MinRingSize = 1000;
    public const int MinSlots = 10, MaxSlots = 65536;

    private readonly PeerSet _set;
    private readonly int[] _owner;           // per position: index of the peer whose point is there, or -1
    private readonly ushort[] _pointAtOrBefore; // per position: the nearest position with a point, going backwards
    private readonly int _pointCount;

    public ConsistentHashingBalancer(int slots, IReadOnlyList<BalancerPeer> peers, IPeerHealth health)
    {
        if (slots is < MinSlots or > MaxSlots)
            throw new ArgumentOutOfRangeException(nameof(slots), slots, $"slots must be between {MinSlots} and {MaxSlots}");
        _set = new PeerSet(peers, health);
        var size = Math.Max(MinRingSize, slots);
        _owner = new int[size];
        Array.Fill(_owner, -1);
        _pointCount = PlacePoints(_set.Peers, _owner);
        _pointAtOrBefore = new ushort[size];
        if (_pointCount > 0) LinkPoints(_owner, _pointAtOrBefore);
    }

    public IReadOnlyList<BalancerPeer> Peers => _set.Peers;

    internal int RingSize => _owner.Length;

    public BalancerPeer? Pick(string? hashKey, IReadOnlyCollection<BalancerPeer>? tried)
    {
        if (_pointCount == 0) return null;
        // No value to hash (hash_on and hash_fallback found nothing): Kong 3.9 hashes the empty string, so all such
        // requests share one peer.
        var position = (int)(XxHash32.Hash(hashKey ?? "") % (uint)_owner.Length);
        return Walk(position, tried) ?? (tried is { Count: > 0 } ? Walk(position, null) : null);
    }

    /// <summary>The first available peer from <paramref name="position"/> backwards round the ring.</summary>
    private BalancerPeer? Walk(int position, IReadOnlyCollection<BalancerPeer>? tried)
    {
        var point = _pointAtOrBefore[position];
        for (var visited = 0; visited < _pointCount; visited++)
        {
            var peer = _set.Peers[_owner[point]];
            if (_set.IsAvailable(peer, tried)) return peer;
            point = _pointAtOrBefore[point == 0 ? _owner.Length - 1 : point - 1];
        }
        return null;
    }

    public void Started(BalancerPeer peer) { }

    public void Finished(BalancerPeer peer, TimeSpan elapsed) { }

    /// <summary>Places each peer's points at the hash of <c>"address:port n"</c>, n = 1, 2, ...; a position already
    /// taken sends the peer on to its next name (Kong's collision rule). Peers are placed in a fixed order
    /// (target, then address) so the same peers give the same ring whatever order they come in.</summary>
    private static int PlacePoints(BalancerPeer[] peers, int[] owner)
    {
        var entries = PointsPerPeer(peers, owner.Length);
        var order = Enumerable.Range(0, peers.Length)
            .OrderBy(i => peers[i].Target, StringComparer.Ordinal)
            .ThenBy(i => peers[i].Endpoint, StringComparer.Ordinal)
            .ToArray();
        var placed = 0;
        foreach (var i in order)
        {
            var endpoint = peers[i].Endpoint;
            var own = 0;
            // Occupancy stays at most half the ring, so a free position turns up within a few names.
            for (var name = 1; own < entries[i]; name++)
            {
                var position = (int)(XxHash32.Hash($"{endpoint} {name}") % (uint)owner.Length);
                if (owner[position] >= 0) continue;
                owner[position] = i;
                own++;
            }
            placed += own;
        }
        return placed;
    }

    /// <summary>Kong's share: weight / total weight x targets x 160 points, at least one for a peer with weight.
    /// Kong gives up (keeps its previous ring) when the points do not fit in the ring; here they are scaled down to
    /// fill at most half of it, so every peer keeps its share.</summary>
    private static int[] PointsPerPeer(BalancerPeer[] peers, int ringSize)
    {
        var entries = new int[peers.Length];
        long totalWeight = 0;
        var up = 0;
        foreach (var peer in peers)
        {
            totalWeight += peer.Weight;
            if (peer.Weight > 0) up++;
        }
        if (totalWeight == 0) return entries;
        var capacity = ringSize / 2;
        if (up > capacity)
            throw new ArgumentException($"{up} peers with weight do not fit on a ring of {ringSize} slots; raise slots", nameof(peers));
        var targets = peers.Select(p => p.TargetId).Distinct(StringComparer.Ordinal).Count();
        long sum = 0;
        for (var i = 0; i < peers.Length; i++)
        {
            if (peers[i].Weight == 0) continue;
            entries[i] = (int)Math.Max(1, peers[i].Weight * (long)targets * PointsPerTarget / totalWeight);
            sum += entries[i];
        }
        if (sum <= capacity) return entries;
        for (var i = 0; i < peers.Length; i++)
            if (entries[i] > 0) entries[i] = (int)Math.Max(1, entries[i] * (long)(capacity - up) / sum);
        return entries;
    }

    private static void LinkPoints(int[] owner, ushort[] pointAtOrBefore)
    {
        var last = Array.FindLastIndex(owner, o => o >= 0); // wraps: positions before the first point go to the last
        for (var position = 0; position < owner.Length; position++)
        {
            if (owner[position] >= 0) last = position;
            pointAtOrBefore[position] = (ushort)last;
        }
    }
}
