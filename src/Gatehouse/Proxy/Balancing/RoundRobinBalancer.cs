namespace Gatehouse.Proxy.Balancing;

/// <summary>
/// Kong's <c>round-robin</c>: each peer takes a share of the tries proportional to its weight. The order is
/// nginx's smooth weighted round-robin, computed once per snapshot into a schedule (a peer of weight 5 beside two
/// of weight 1 goes <c>a a b a c a a</c>, never <c>a a a a a b c</c>), so a new weight spreads at once instead of
/// bursting to one peer. A pick takes the next schedule entry with one <see cref="Interlocked.Increment(ref long)"/>
/// on a shared counter: lock-free, allocation-free, and the schedule is immutable so readers need no fence.
/// Kong builds a randomly shuffled wheel instead; both give the same long-run shares.
/// </summary>
public sealed class RoundRobinBalancer : IBalancer
{
    /// <summary>Schedule length bound: above it, weights are scaled down (each up peer keeps at least one entry),
    /// so memory and build time stay small; the share error is then below one entry in this many. Building costs
    /// length x peers steps, so the bound shrinks for upstreams with thousands of peers.</summary>
    internal static int MaxScheduleLength(int peers) => Math.Clamp((1 << 24) / Math.Max(1, peers), 4096, 1 << 16);

    private readonly PeerSet _set;
    private readonly int[] _schedule;
    private long _ticket;

    public RoundRobinBalancer(IReadOnlyList<BalancerPeer> peers, IPeerHealth health)
    {
        _set = new PeerSet(peers, health);
        _schedule = BuildSchedule(_set.Peers);
        // Kong starts at a random point of its wheel too: gateways restarted together do not all start on one peer.
        _ticket = Random.Shared.NextInt64(0, Math.Max(1, _schedule.Length));
    }

    public IReadOnlyList<BalancerPeer> Peers => _set.Peers;

    public BalancerPeer? Pick(string? hashKey, IReadOnlyCollection<BalancerPeer>? tried)
    {
        if (_schedule.Length == 0) return null;
        var ticket = (ulong)Interlocked.Increment(ref _ticket);
        var peer = _set.Peers[_schedule[(int)(ticket % (uint)_schedule.Length)]];
        if (_set.IsAvailable(peer, tried)) return peer;
        // Its entry's peer is down or tried: a weighted choice among the others keeps every available peer's
        // share proportional to its weight (walking to the next entry, as Kong does, favours whoever follows).
        return _set.PickWeighted(PeerSet.Mix(ticket), tried);
    }

    public void Started(BalancerPeer peer) { }

    public void Finished(BalancerPeer peer, TimeSpan elapsed) { }

    /// <summary>nginx's smooth weighted round-robin run for one full cycle: each step every peer's current weight
    /// grows by its weight, the largest is chosen and drops by the total. Current weights start at minus half the
    /// weight (nginx starts at 0), which keeps the schedule smooth across the wrap too: 5,1,1 runs at most three
    /// in a row where nginx's cycle repeated gives four. Every peer still appears exactly its weight times.</summary>
    internal static int[] BuildSchedule(BalancerPeer[] peers)
    {
        var weights = ScheduleWeights(peers);
        long total = 0;
        foreach (var w in weights) total += w;
        var schedule = new int[total];
        var current = new long[weights.Length];
        for (var i = 0; i < weights.Length; i++) current[i] = -weights[i]; // doubled scale: -w/2 in nginx's units
        for (var step = 0; step < schedule.Length; step++)
        {
            var best = -1;
            for (var i = 0; i < weights.Length; i++)
            {
                if (weights[i] == 0) continue;
                current[i] += 2L * weights[i];
                if (best < 0 || current[i] > current[best]) best = i;
            }
            current[best] -= 2 * total;
            schedule[step] = best;
        }
        return schedule;
    }

    /// <summary>Weights divided by their greatest common divisor (Kong's smallest wheel), then scaled down if the
    /// cycle would still exceed <see cref="MaxScheduleLength"/>.</summary>
    private static int[] ScheduleWeights(BalancerPeer[] peers)
    {
        var weights = new int[peers.Length];
        var divisor = 0;
        long total = 0;
        for (var i = 0; i < peers.Length; i++)
        {
            weights[i] = peers[i].Weight;
            divisor = Gcd(divisor, weights[i]);
            total += weights[i];
        }
        if (divisor == 0) return weights;
        total /= divisor;
        for (var i = 0; i < weights.Length; i++) weights[i] /= divisor;
        var bound = MaxScheduleLength(peers.Length);
        if (total <= bound) return weights;
        for (var i = 0; i < weights.Length; i++)
            if (weights[i] > 0) weights[i] = (int)Math.Max(1, weights[i] * (long)bound / total);
        return weights;
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }
}
