namespace Gatehouse.Proxy.Balancing;

/// <summary>
/// What one peer is doing: tries in flight and a latency EWMA (Kong's latency balancer: the average decays with the
/// time since its last sample, 10 s time constant, so it follows the peer at any request rate and an idle peer's
/// average fades until it is tried again). Updated with Interlocked only. A new snapshot's balancer takes over the
/// previous one's loads for the same peers, so tries still in flight there are counted here too.
/// </summary>
internal sealed class PeerLoad
{
    /// <summary>Kong's DECAY_TIME.</summary>
    public static readonly TimeSpan DecayTime = TimeSpan.FromSeconds(10);

    private int _inFlight;
    private double _ewmaSeconds;
    private long _lastSample; // TimeProvider timestamp of the last sample; 0 = none yet

    public int InFlight => Volatile.Read(ref _inFlight);

    public void Started() => Interlocked.Increment(ref _inFlight);

    public void Finished()
    {
        // A Finished without its Started (a caller's bug) must not leave the count below zero for good.
        if (Interlocked.Decrement(ref _inFlight) < 0) Interlocked.Increment(ref _inFlight);
    }

    /// <summary>The average as Kong scores it at <paramref name="now"/>: decayed toward 0 by the time since its
    /// last sample.</summary>
    public double DecayedEwma(long now, double decayTicks)
    {
        var last = Volatile.Read(ref _lastSample);
        var ewma = Volatile.Read(ref _ewmaSeconds);
        return last == 0 ? ewma : ewma * Weight(now - last, decayTicks);
    }

    public void AddSample(double seconds, long now, double decayTicks)
    {
        while (true)
        {
            var last = Volatile.Read(ref _lastSample);
            var old = Volatile.Read(ref _ewmaSeconds);
            var weight = last == 0 ? 0 : Weight(now - last, decayTicks);
            var next = old * weight + seconds * (1 - weight);
            if (Interlocked.CompareExchange(ref _ewmaSeconds, next, old) != old) continue;
            // The stamp follows the average without a lock; a reader in between sees the new average with the
            // old stamp and decays it a little more, once.
            AdvanceLastSample(now);
            return;
        }
    }

    /// <summary>Starts a peer new to the upstream at <paramref name="ewmaSeconds"/> (Kong's slow start: the
    /// average of the others, so a new peer is not flooded because it has no history yet).</summary>
    public void Seed(double ewmaSeconds, long now)
    {
        Volatile.Write(ref _ewmaSeconds, ewmaSeconds);
        AdvanceLastSample(now);
    }

    public bool HasSamples => Volatile.Read(ref _lastSample) != 0;

    private void AdvanceLastSample(long now)
    {
        now = Math.Max(now, 1);
        var seen = Volatile.Read(ref _lastSample);
        while (seen < now)
        {
            var actual = Interlocked.CompareExchange(ref _lastSample, now, seen);
            if (actual == seen) return;
            seen = actual;
        }
    }

    private static double Weight(long elapsedTicks, double decayTicks) => elapsedTicks <= 0 ? 1 : Math.Exp(-elapsedTicks / decayTicks);
}

/// <summary>The loads of one balancer's peers, index for index, found by target and address: a previous
/// snapshot's balancer hands over the load of every peer that is still there (its weight may have changed).</summary>
internal sealed class PeerLoads
{
    private readonly Dictionary<PeerKey, int> _index;

    public PeerLoads(BalancerPeer[] peers, PeerLoads? previous)
    {
        Loads = new PeerLoad[peers.Length];
        IsNew = new bool[peers.Length];
        _index = new Dictionary<PeerKey, int>(peers.Length);
        for (var i = 0; i < peers.Length; i++)
        {
            if (!_index.TryAdd(PeerKey.Of(peers[i]), i))
            {
                Loads[i] = Loads[_index[PeerKey.Of(peers[i])]]; // the same address listed twice: one load
                continue;
            }
            var carried = previous?.Of(peers[i]);
            Loads[i] = carried ?? new PeerLoad();
            IsNew[i] = carried is null;
        }
    }

    public PeerLoad[] Loads { get; }

    /// <summary>Per peer: no previous balancer had it.</summary>
    public bool[] IsNew { get; }

    /// <summary>The load of <paramref name="peer"/>, or null when it is not one of these peers.</summary>
    public PeerLoad? Of(BalancerPeer peer) => _index.TryGetValue(PeerKey.Of(peer), out var i) ? Loads[i] : null;

    private readonly record struct PeerKey(string TargetId, System.Net.IPAddress Address, int Port)
    {
        public static PeerKey Of(BalancerPeer peer) => new(peer.TargetId, peer.Address, peer.Port);
    }
}
