using Gatehouse.Proxy.Balancing;
using static Gatehouse.Tests.Proxy.Balancing.BalancerTestPeers;

namespace Gatehouse.Tests.Proxy.Balancing;

public sealed class RoundRobinBalancerTests
{
    [Fact]
    public void Weights_one_two_three_get_shares_one_two_three()
    {
        int[] weights = [1, 2, 3];
        var balancer = new RoundRobinBalancer(WithWeights(weights), SwitchableHealth.AllUp);
        // Whole cycles: the schedule gives exact shares.
        var counts = Count(balancer, 6 * 500);
        Assert.Equal([500, 1000, 1500, 0], counts);
    }

    [Fact]
    public void Weight_zero_takes_no_traffic()
    {
        var balancer = new RoundRobinBalancer(WithWeights(1, 0, 1), SwitchableHealth.AllUp);
        var counts = Count(balancer, 1000);
        Assert.Equal([500, 0, 500, 0], counts);
    }

    [Fact]
    public void All_weights_zero_or_no_peers_give_null()
    {
        Assert.Null(new RoundRobinBalancer(WithWeights(0, 0), SwitchableHealth.AllUp).Pick(null, null));
        Assert.Null(new RoundRobinBalancer(WithWeights(), SwitchableHealth.AllUp).Pick(null, null));
    }

    [Fact]
    public void Unhealthy_peer_is_skipped_and_the_others_keep_their_weight_ratio()
    {
        var peers = WithWeights(1, 5, 2);
        var health = new SwitchableHealth();
        health.SetDown(peers[1]);
        var balancer = new RoundRobinBalancer(peers, health);
        var counts = Count(balancer, 6000);
        Assert.Equal(0, counts[1]);
        Assert.Equal(0, counts[3]);
        // 1:2 among the two left; the skipped entries are spread by weight, not handed to the next entry's peer.
        AssertShares([counts[0], counts[2]], [1, 2], 0.03);
    }

    [Fact]
    public void All_unhealthy_gives_null_and_recovery_brings_traffic_back()
    {
        var peers = WithWeights(1, 1);
        var health = new SwitchableHealth();
        health.SetDown(peers[0]);
        health.SetDown(peers[1]);
        var balancer = new RoundRobinBalancer(peers, health);
        Assert.Null(balancer.Pick(null, null));
        health.SetUp(peers[1]);
        Assert.Same(peers[1], balancer.Pick(null, null));
    }

    [Fact]
    public void Smooth_order_has_no_burst_to_the_heavy_peer()
    {
        // Weights 5,1,1: the two light peers split the heavy one's five picks into runs of at most three (a wheel
        // in weight order would give five in a row, nginx's plain cycle repeated gives four).
        var balancer = new RoundRobinBalancer(WithWeights(5, 1, 1), SwitchableHealth.AllUp);
        Assert.True(LongestRun(balancer, 70) <= 3);

        // After a weight change (a new snapshot) the new shares are interleaved at once, not bursted.
        var reweighted = new RoundRobinBalancer(WithWeights(1, 1, 10), SwitchableHealth.AllUp);
        Assert.True(LongestRun(reweighted, 120) <= 7, "weight 10 among 12: never all ten in a row");
    }

    private static int LongestRun(IBalancer balancer, int picks)
    {
        int longest = 0, run = 0;
        BalancerPeer? previous = null;
        for (var i = 0; i < picks; i++)
        {
            var peer = balancer.Pick(null, null);
            run = ReferenceEquals(peer, previous) ? run + 1 : 1;
            longest = Math.Max(longest, run);
            previous = peer;
        }
        return longest;
    }

    [Fact]
    public void Retry_goes_to_a_peer_not_tried_and_back_to_a_tried_one_only_when_none_is_left()
    {
        var peers = WithWeights(1, 1, 1);
        var balancer = new RoundRobinBalancer(peers, SwitchableHealth.AllUp);
        for (var i = 0; i < 300; i++)
        {
            var first = balancer.Pick(null, null)!;
            var second = balancer.Pick(null, [first])!;
            Assert.NotSame(first, second);
            var third = balancer.Pick(null, new List<BalancerPeer> { first, second })!;
            Assert.NotSame(first, third);
            Assert.NotSame(second, third);
            // Every peer tried: the retry lands on one of them again (Kong retries on the same target when it is
            // the only one), still never on a down one.
            Assert.NotNull(balancer.Pick(null, [first, second, third]));
        }

        var single = new RoundRobinBalancer(WithWeights(1), SwitchableHealth.AllUp);
        var only = single.Pick(null, null)!;
        Assert.Same(only, single.Pick(null, [only]));
    }

    [Fact]
    public void Tried_peers_compare_by_value_so_a_retry_across_snapshots_still_counts()
    {
        var balancer = new RoundRobinBalancer(WithWeights(1, 1), SwitchableHealth.AllUp);
        var other = WithWeights(1, 1)[0]; // equal record from another snapshot
        for (var i = 0; i < 50; i++) Assert.Same(balancer.Peers[1], balancer.Pick(null, [other]));
    }

    [Fact]
    public void Parallel_picks_keep_exact_totals()
    {
        int[] weights = [1, 2, 3];
        var balancer = new RoundRobinBalancer(WithWeights(weights), SwitchableHealth.AllUp);
        var counts = new int[3];
        const int perThread = 6 * 2000, threads = 4;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ =>
        {
            for (var i = 0; i < perThread; i++)
                Interlocked.Increment(ref counts[IndexOf(balancer.Peers, balancer.Pick(null, null)!)]);
        });
        // Each pick takes a distinct ticket, so whole cycles give exact shares whatever the interleaving.
        Assert.Equal([threads * 2000, threads * 4000, threads * 6000], counts);
    }

    [Fact]
    public void Large_weights_scale_to_a_bounded_schedule_and_keep_their_ratio()
    {
        int[] weights = [65535, 65534, 3, 1000];
        var schedule = RoundRobinBalancer.BuildSchedule(WithWeights(weights));
        Assert.True(schedule.Length <= RoundRobinBalancer.MaxScheduleLength(weights.Length) + weights.Length);
        var counts = new int[weights.Length];
        foreach (var i in schedule) counts[i]++;
        Assert.All(counts, c => Assert.True(c > 0));
        AssertShares(counts, weights, 0.001);
    }

    [Fact]
    public void Thousands_of_peers_build_a_bounded_schedule_with_every_peer_in_it()
    {
        var weights = Enumerable.Range(0, 3000).Select(i => 65535 - i).ToArray();
        var peers = weights.Select((w, i) => new BalancerPeer($"t{i}", $"h{i}:80", System.Net.IPAddress.Parse($"10.1.{i / 250}.{i % 250 + 1}"), 80, w)).ToArray();
        var schedule = RoundRobinBalancer.BuildSchedule(peers);
        Assert.InRange(schedule.Length, 3000, RoundRobinBalancer.MaxScheduleLength(3000) + 3000);
        Assert.Equal(3000, schedule.Distinct().Count());
    }

    [Fact]
    public void Pick_does_not_allocate()
    {
        var peers = WithWeights(1, 2, 3);
        var health = new SwitchableHealth();
        health.SetDown(peers[0]);
        var balancer = new RoundRobinBalancer(peers, health);
        BalancerPeer[] tried = [peers[1]];
        Assert.Equal(0, AllocationProbe.LeastBytesPerBatch(() => { balancer.Pick(null, null); balancer.Pick(null, tried); }));
    }
}
