namespace Gatehouse.Proxy.Balancing;

/// <summary>
/// Kong's <c>latency</c>: each peer keeps an EWMA of its tries' durations that decays with time (10 s); the peer
/// with the lowest EWMA / weight takes the next try. Gatehouse multiplies the score by (tries in flight + 1), as
/// Finagle's peak-EWMA that Kong's algorithm comes from does, so concurrent requests spread over the fast peers
/// instead of all queueing on the fastest until its next sample (with one request at a time the choice is Kong's).
/// A peer without samples scores 0 and is tried first (exploration); a peer added while the others have
/// averages starts at their mean (Kong's slow start). An idle peer's average fades, so it is tried again.
/// Ties go to whichever comes first from a start point that moves on every pick.
/// </summary>
public sealed class LatencyBalancer : IBalancer
{
    private readonly PeerSet _set;
    private readonly PeerLoads _loads;
    private readonly TimeProvider _time;
    private readonly double _decayTicks;
    private long _rotor;

    /// <param name="previous">the balancer this one replaces (previous snapshot), whose averages and in-flight
    /// counts carry over for the peers still present; null for none</param>
    public LatencyBalancer(IReadOnlyList<BalancerPeer> peers, IPeerHealth health, TimeProvider time, IBalancer? previous = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        _set = new PeerSet(peers, health);
        _time = time;
        _decayTicks = PeerLoad.DecayTime.TotalSeconds * time.TimestampFrequency;
        _loads = new PeerLoads(_set.Peers, (previous as LatencyBalancer)?._loads);
        SeedNewPeers();
    }

    public IReadOnlyList<BalancerPeer> Peers => _set.Peers;

    internal int InFlight(BalancerPeer peer) => _loads.Of(peer)?.InFlight ?? 0;

    internal double EwmaSeconds(BalancerPeer peer) => _loads.Of(peer)?.DecayedEwma(_time.GetTimestamp(), _decayTicks) ?? 0;

    public BalancerPeer? Pick(string? hashKey, IReadOnlyCollection<BalancerPeer>? tried)
    {
        var peers = _set.Peers;
        if (peers.Length == 0) return null;
        var start = (int)((ulong)Interlocked.Increment(ref _rotor) % (uint)peers.Length);
        var now = _time.GetTimestamp();
        return Fastest(start, now, tried) ?? (tried is { Count: > 0 } ? Fastest(start, now, null) : null);
    }

    private BalancerPeer? Fastest(int start, long now, IReadOnlyCollection<BalancerPeer>? tried)
    {
        var peers = _set.Peers;
        var best = -1;
        var bestScore = 0.0;
        for (var k = 0; k < peers.Length; k++)
        {
            var i = start + k < peers.Length ? start + k : start + k - peers.Length;
            if (!_set.IsAvailable(peers[i], tried)) continue;
            var load = _loads.Loads[i];
            var score = load.DecayedEwma(now, _decayTicks) * (load.InFlight + 1) / peers[i].Weight;
            if (best < 0 || score < bestScore)
            {
                best = i;
                bestScore = score;
            }
        }
        return best < 0 ? null : peers[best];
    }

    public void Started(BalancerPeer peer) => _loads.Of(peer)?.Started();

    public void Finished(BalancerPeer peer, TimeSpan elapsed)
    {
        var load = _loads.Of(peer);
        if (load is null) return;
        load.Finished();
        load.AddSample(Math.Max(0, elapsed.TotalSeconds), _time.GetTimestamp(), _decayTicks);
    }

    /// <summary>Kong's slow start: peers new to this upstream start at the mean average of the peers that have one.</summary>
    private void SeedNewPeers()
    {
        var now = _time.GetTimestamp();
        double sum = 0;
        var known = 0;
        for (var i = 0; i < _set.Peers.Length; i++)
        {
            if (_loads.IsNew[i] || !_loads.Loads[i].HasSamples || !_set.IsUp(_set.Peers[i])) continue;
            sum += _loads.Loads[i].DecayedEwma(now, _decayTicks);
            known++;
        }
        if (known == 0) return;
        for (var i = 0; i < _set.Peers.Length; i++)
            if (_loads.IsNew[i]) _loads.Loads[i].Seed(sum / known, now);
    }
}
