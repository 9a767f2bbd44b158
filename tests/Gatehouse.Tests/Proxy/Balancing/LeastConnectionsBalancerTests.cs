using Gatehouse.Proxy.Balancing;
using static Gatehouse.Tests.Proxy.Balancing.BalancerTestPeers;

namespace Gatehouse.Tests.Proxy.Balancing;

public sealed class LeastConnectionsBalancerTests
{
    [Fact]
    public void Held_tries_spread_one_two_three_by_weight()
    {
        int[] weights = [1, 2, 3];
        var balancer = new LeastConnectionsBalancer(WithWeights(weights), SwitchableHealth.AllUp);
        var counts = new int[3];
        for (var i = 0; i < 1200; i++)
        {
            var peer = balancer.Pick(null, null)!;
            balancer.Started(peer); // never finished: in flight piles up by weight
            counts[IndexOf(balancer.Peers, peer)]++;
        }
        // (in flight + 1) / weight is kept level, so the counts stay within one of 200:400:600.
        Assert.InRange(counts[0], 199, 201);
        Assert.InRange(counts[1], 399, 401);
        Assert.InRange(counts[2], 599, 601);
    }

    [Fact]
    public void The_peer_with_fewest_tries_in_flight_is_picked_and_finishing_frees_it()
    {
        var peers = WithWeights(1, 1);
        var balancer = new LeastConnectionsBalancer(peers, SwitchableHealth.AllUp);
        for (var i = 0; i < 3; i++) balancer.Started(peers[0]);
        for (var i = 0; i < 2; i++) balancer.Started(peers[1]);
        Assert.Same(peers[1], balancer.Pick(null, null));
        balancer.Finished(peers[0], TimeSpan.Zero);
        balancer.Finished(peers[0], TimeSpan.Zero);
        Assert.Same(peers[0], balancer.Pick(null, null));
        Assert.Equal(1, balancer.InFlight(peers[0]));
        Assert.Equal(2, balancer.InFlight(peers[1]));
    }

    [Fact]
    public void When_idle_the_heaviest_goes_first_as_in_Kong()
    {
        var peers = WithWeights(1, 5, 2);
        var balancer = new LeastConnectionsBalancer(peers, SwitchableHealth.AllUp);
        for (var i = 0; i < 20; i++) Assert.Same(peers[1], balancer.Pick(null, null));
    }

    [Fact]
    public void Ties_are_shared_evenly()
    {
        var balancer = new LeastConnectionsBalancer(WithWeights(1, 1, 1), SwitchableHealth.AllUp);
        var counts = new int[3];
        for (var i = 0; i < 3000; i++)
        {
            var peer = balancer.Pick(null, null)!;
            balancer.Started(peer);
            balancer.Finished(peer, TimeSpan.Zero); // always idle again: every pick is a three-way tie
            counts[IndexOf(balancer.Peers, peer)]++;
        }
        Assert.Equal([1000, 1000, 1000], counts);
    }

    [Fact]
    public void Down_weight_zero_and_tried_peers_are_skipped()
    {
        var peers = WithWeights(1, 0, 1, 1);
        var health = new SwitchableHealth();
        health.SetDown(peers[2]);
        var balancer = new LeastConnectionsBalancer(peers, health);
        var counts = Count(balancer, 1000);
        Assert.Equal(0, counts[1]);
        Assert.Equal(0, counts[2]);
        Assert.Equal(1000, counts[0] + counts[3]);
        for (var i = 0; i < 50; i++) Assert.Same(peers[3], balancer.Pick(null, [peers[0]]));
        // Every up peer tried: the least loaded of them again.
        Assert.NotNull(balancer.Pick(null, [peers[0], peers[3]]));
        health.SetDown(peers[0]);
        health.SetDown(peers[3]);
        Assert.Null(balancer.Pick(null, null));
    }

    [Fact]
    public void Parallel_tries_keep_exact_counts()
    {
        var peers = WithWeights(1, 2, 3);
        var balancer = new LeastConnectionsBalancer(peers, SwitchableHealth.AllUp);
        const int threads = 4, perThread = 5000;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            for (var i = 0; i < perThread; i++)
            {
                var peer = balancer.Pick(null, null)!;
                balancer.Started(peer);
                if (i % 2 == 0) balancer.Finished(peer, TimeSpan.Zero); // half stay in flight
            }
        });
        Assert.Equal(threads * perThread / 2, peers.Sum(balancer.InFlight));
    }

    [Fact]
    public void In_flight_tries_carry_over_to_the_next_snapshots_balancer()
    {
        var peers = WithWeights(1, 1);
        var old = new LeastConnectionsBalancer(peers, SwitchableHealth.AllUp);
        for (var i = 0; i < 5; i++) old.Started(peers[0]);
        // Next snapshot: same targets, a weight changed; the tries still in flight on the old balancer count here.
        var reweighted = WithWeights(1, 2);
        var next = (LeastConnectionsBalancer)BalancerFactory.Create("least-connections", 10000, reweighted, SwitchableHealth.AllUp, TimeProvider.System, old);
        Assert.Equal(5, next.InFlight(reweighted[0]));
        old.Finished(peers[0], TimeSpan.Zero);
        Assert.Equal(4, next.InFlight(reweighted[0]));
    }

    [Fact]
    public void Finished_without_started_does_not_go_below_zero()
    {
        var peers = WithWeights(1, 1);
        var balancer = new LeastConnectionsBalancer(peers, SwitchableHealth.AllUp);
        balancer.Finished(peers[0], TimeSpan.Zero);
        Assert.Equal(0, balancer.InFlight(peers[0]));
    }

    [Fact]
    public void Pick_started_and_finished_do_not_allocate()
    {
        var peers = WithWeights(1, 2, 3);
        var balancer = new LeastConnectionsBalancer(peers, SwitchableHealth.AllUp);
        BalancerPeer[] tried = [peers[2]];
        void Round()
        {
            var peer = balancer.Pick(null, null)!;
            balancer.Started(peer);
            var retry = balancer.Pick(null, tried)!;
            balancer.Finished(peer, TimeSpan.Zero);
            balancer.Started(retry);
            balancer.Finished(retry, TimeSpan.Zero);
        }
        Assert.Equal(0, AllocationProbe.LeastBytesPerBatch(Round));
    }
}
