using System.Net;
using Gatehouse.Proxy.Balancing;

namespace Gatehouse.Tests.Proxy.Balancing;

/// <summary>Peers on 10.0.0.x:8000 and a health view the test switches per peer.</summary>
internal static class BalancerTestPeers
{
    public static BalancerPeer[] WithWeights(params int[] weights) =>
        weights.Select((w, i) => new BalancerPeer($"t{i}", $"10.0.0.{i + 1}:8000", IPAddress.Parse($"10.0.0.{i + 1}"), 8000, w)).ToArray();

    /// <summary>Picks <paramref name="count"/> times (no key, nothing tried) and counts per peer index.</summary>
    public static int[] Count(IBalancer balancer, int count, Func<int, string?>? key = null)
    {
        var peers = balancer.Peers;
        var counts = new int[peers.Count + 1]; // last slot: no peer
        for (var i = 0; i < count; i++)
        {
            var peer = balancer.Pick(key?.Invoke(i), null);
            counts[peer is null ? peers.Count : IndexOf(peers, peer)]++;
        }
        return counts;
    }

    public static int IndexOf(IReadOnlyList<BalancerPeer> peers, BalancerPeer peer)
    {
        for (var i = 0; i < peers.Count; i++) if (ReferenceEquals(peers[i], peer)) return i;
        throw new InvalidOperationException($"{peer} is not one of the balancer's peers");
    }

    /// <summary>Asserts each peer's share is its weight's share within <paramref name="tolerance"/> (absolute).</summary>
    public static void AssertShares(int[] counts, int[] weights, double tolerance)
    {
        var total = counts.Sum();
        double weightSum = weights.Sum();
        for (var i = 0; i < weights.Length; i++)
        {
            var expected = weights[i] / weightSum;
            var actual = counts[i] / (double)total;
            Assert.True(Math.Abs(actual - expected) <= tolerance,
                $"peer {i} (weight {weights[i]}): share {actual:F4}, expected {expected:F4} +/- {tolerance} (counts {string.Join(",", counts)})");
        }
    }
}

/// <summary>Health switched per peer by the test; thread-safe reads.</summary>
internal sealed class SwitchableHealth : IPeerHealth
{
    private readonly HashSet<BalancerPeer> _down = new(ReferenceEqualityComparer.Instance);
    private volatile BalancerPeer[] _downSnapshot = [];

    public static readonly SwitchableHealth AllUp = new();

    public void SetDown(BalancerPeer peer) { lock (_down) { _down.Add(peer); _downSnapshot = _down.ToArray(); } }

    public void SetUp(BalancerPeer peer) { lock (_down) { _down.Remove(peer); _downSnapshot = _down.ToArray(); } }

    public bool IsHealthy(BalancerPeer peer) => Array.IndexOf(_downSnapshot, peer) < 0;
}
