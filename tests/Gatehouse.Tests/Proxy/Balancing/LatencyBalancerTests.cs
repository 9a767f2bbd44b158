using Gatehouse.Proxy.Balancing;
using static Gatehouse.Tests.Proxy.Balancing.BalancerTestPeers;

namespace Gatehouse.Tests.Proxy.Balancing;

public sealed class LatencyBalancerTests
{
    private static readonly TimeSpan Fast = TimeSpan.FromMilliseconds(10), Slow = TimeSpan.FromMilliseconds(100);

    private static void Serve(IBalancer balancer, BalancerPeer peer, TimeSpan took)
    {
        balancer.Started(peer);
        balancer.Finished(peer, took);
    }

    [Fact]
    public void The_average_decays_with_time_between_samples_as_Kongs()
    {
        var time = new ManualTimeProvider();
        var peers = WithWeights(1);
        var balancer = new LatencyBalancer(peers, SwitchableHealth.AllUp, time);
        Serve(balancer, peers[0], TimeSpan.FromMilliseconds(100));
        Assert.Equal(0.100, balancer.EwmaSeconds(peers[0]), 9); // first sample: the average is the sample
        time.Advance(TimeSpan.FromSeconds(10));
        // Read after 10 s idle: decayed by e^-1.
        Assert.Equal(0.100 * Math.Exp(-1), balancer.EwmaSeconds(peers[0]), 9);
        Serve(balancer, peers[0], TimeSpan.FromMilliseconds(200));
        Assert.Equal(0.100 * Math.Exp(-1) + 0.200 * (1 - Math.Exp(-1)), balancer.EwmaSeconds(peers[0]), 9);
    }

    [Fact]
    public void New_peers_are_explored_then_the_fastest_takes_sequential_traffic()
    {
        var time = new ManualTimeProvider();
        var peers = WithWeights(1, 1, 1);
        var balancer = new LatencyBalancer(peers, SwitchableHealth.AllUp, time);
        TimeSpan[] latency = [Slow, Fast, Slow];
        var counts = new int[3];
        for (var i = 0; i < 1000; i++)
        {
            var peer = balancer.Pick(null, null)!;
            var index = IndexOf(peers, peer);
            counts[index]++;
            Serve(balancer, peer, latency[index]);
        }
        // Each peer is tried while it has no average; then only the fast one (time does not move).
        Assert.Equal([1, 998, 1], counts);
    }

    [Fact]
    public void An_idle_slow_peers_average_fades_until_it_is_tried_again()
    {
        var time = new ManualTimeProvider();
        var peers = WithWeights(1, 1);
        var balancer = new LatencyBalancer(peers, SwitchableHealth.AllUp, time);
        Serve(balancer, peers[0], Fast);
        Serve(balancer, peers[1], Slow);
        var seconds = 0;
        BalancerPeer peer;
        while ((peer = balancer.Pick(null, null)!) == peers[0])
        {
            Serve(balancer, peer, Fast);
            time.Advance(TimeSpan.FromSeconds(1));
            Assert.True(++seconds < 60, "the slow peer was never retried");
        }
        // At second s the fast peer's last sample is 1 s old and the slow one's s s old: the slow one wins once
        // 0.1 e^(-s/10) < 0.01 e^(-1/10), i.e. s > 10 ln 10 + 1 = 24.03.
        Assert.Equal(25, seconds);
    }

    [Fact]
    public void Tries_in_flight_spread_concurrent_load_by_weight()
    {
        int[] weights = [1, 2, 3];
        var time = new ManualTimeProvider();
        var peers = WithWeights(weights);
        var balancer = new LatencyBalancer(peers, SwitchableHealth.AllUp, time);
        foreach (var p in peers) Serve(balancer, p, Fast); // same average everywhere
        var counts = new int[3];
        for (var i = 0; i < 1200; i++)
        {
            var peer = balancer.Pick(null, null)!;
            balancer.Started(peer); // held: in flight piles up
            counts[IndexOf(peers, peer)]++;
        }
        AssertShares(counts, weights, 0.01);
    }

    [Fact]
    public void A_slow_peer_is_used_once_the_fast_one_is_busy_enough()
    {
        var time = new ManualTimeProvider();
        var peers = WithWeights(1, 1);
        var balancer = new LatencyBalancer(peers, SwitchableHealth.AllUp, time);
        Serve(balancer, peers[0], Fast);
        Serve(balancer, peers[1], Slow);
        for (var i = 0; i < 8; i++) balancer.Started(peers[0]);
        Assert.Same(peers[0], balancer.Pick(null, null)); // 0.01 x (8 + 1) < 0.1 x 1
        balancer.Started(peers[0]);
        balancer.Started(peers[0]);
        Assert.Same(peers[1], balancer.Pick(null, null)); // 0.01 x 11 > 0.1 x 1
    }

    [Fact]
    public void A_peer_added_later_starts_at_the_others_mean_and_averages_carry_over()
    {
        var time = new ManualTimeProvider();
        var peers = WithWeights(1, 1, 1);
        var first = new LatencyBalancer(peers[..2], SwitchableHealth.AllUp, time);
        Serve(first, peers[0], Fast);
        Serve(first, peers[1], Slow);
        var second = (LatencyBalancer)BalancerFactory.Create("latency", 10000, peers, SwitchableHealth.AllUp, time, first);
        Assert.Equal(0.010, second.EwmaSeconds(peers[0]), 9);
        Assert.Equal(0.100, second.EwmaSeconds(peers[1]), 9);
        Assert.Equal(0.055, second.EwmaSeconds(peers[2]), 9); // not 0: it is not flooded for having no history
        Assert.Same(peers[0], second.Pick(null, null));
    }

    [Fact]
    public void Down_and_tried_peers_are_skipped_and_all_down_gives_null()
    {
        var time = new ManualTimeProvider();
        var peers = WithWeights(1, 1, 0);
        var health = new SwitchableHealth();
        var balancer = new LatencyBalancer(peers, health, time);
        Serve(balancer, peers[0], Fast);
        Serve(balancer, peers[1], Slow);
        Assert.Same(peers[1], balancer.Pick(null, [peers[0]]));
        Assert.Same(peers[0], balancer.Pick(null, [peers[0], peers[1]])); // all tried: the best again
        health.SetDown(peers[0]);
        Assert.Same(peers[1], balancer.Pick(null, null));
        health.SetDown(peers[1]);
        Assert.Null(balancer.Pick(null, null)); // weight 0 never serves
    }

    [Fact]
    public void Parallel_tries_keep_exact_counts()
    {
        var peers = WithWeights(1, 2, 3);
        var balancer = new LatencyBalancer(peers, SwitchableHealth.AllUp, TimeProvider.System);
        const int threads = 4, perThread = 5000;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            for (var i = 0; i < perThread; i++)
            {
                var peer = balancer.Pick(null, null)!;
                balancer.Started(peer);
                if (i % 2 == 0) balancer.Finished(peer, TimeSpan.FromMilliseconds(1 + t));
            }
        });
        Assert.Equal(threads * perThread / 2, peers.Sum(balancer.InFlight));
        Assert.All(peers, p => Assert.InRange(balancer.EwmaSeconds(p), 0, 0.004));
    }

    [Fact]
    public void Pick_started_and_finished_do_not_allocate()
    {
        var peers = WithWeights(1, 2, 3);
        var balancer = new LatencyBalancer(peers, SwitchableHealth.AllUp, new ManualTimeProvider());
        BalancerPeer[] tried = [peers[2]];
        void Round()
        {
            var peer = balancer.Pick(null, null)!;
            balancer.Started(peer);
            var retry = balancer.Pick(null, tried)!;
            balancer.Finished(peer, Fast);
            balancer.Started(retry);
            balancer.Finished(retry, Slow);
        }
        Assert.Equal(0, AllocationProbe.LeastBytesPerBatch(Round));
    }
}
