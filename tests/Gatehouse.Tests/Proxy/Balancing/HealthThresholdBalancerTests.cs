using Gatehouse.Proxy.Balancing;
using static Gatehouse.Tests.Proxy.Balancing.BalancerTestPeers;

namespace Gatehouse.Tests.Proxy.Balancing;

public sealed class HealthThresholdBalancerTests
{
    [Fact]
    public void Below_the_threshold_the_upstream_takes_no_tries_even_on_healthy_peers()
    {
        var peers = WithWeights(1, 1, 2); // total 4
        var health = new SwitchableHealth();
        var balancer = BalancerFactory.Create("round-robin", 10000, peers, health, TimeProvider.System, previous: null, healthThreshold: 50);
        Assert.NotNull(balancer.Pick(null, null));
        health.SetDown(peers[0]); // 3/4 = 75 % > 50
        Assert.NotNull(balancer.Pick(null, null));
        health.SetDown(peers[1]); // 2/4 = 50 %, not more than 50: Kong's balancer is unhealthy
        Assert.Null(balancer.Pick(null, null));
        Assert.False(HealthThresholdBalancer.IsHealthy(peers, health, 50));
        health.SetUp(peers[1]);
        Assert.NotNull(balancer.Pick(null, null));
    }

    [Fact]
    public void Threshold_zero_needs_some_healthy_weight_and_weight_zero_does_not_count()
    {
        var peers = WithWeights(0, 1);
        var health = new SwitchableHealth();
        Assert.True(HealthThresholdBalancer.IsHealthy(peers, health, 0));
        health.SetDown(peers[1]);
        Assert.False(HealthThresholdBalancer.IsHealthy(peers, health, 0));
        Assert.False(HealthThresholdBalancer.IsHealthy(WithWeights(0, 0), SwitchableHealth.AllUp, 0));
        // Threshold 0 (Kong's default) builds the plain algorithm.
        Assert.IsType<RoundRobinBalancer>(BalancerFactory.Create("round-robin", 10000, peers, health, TimeProvider.System, null, 0));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(100.5)]
    [InlineData(double.NaN)]
    public void Threshold_out_of_range_throws(double threshold) =>
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            BalancerFactory.Create("round-robin", 10000, WithWeights(1), SwitchableHealth.AllUp, TimeProvider.System, null, threshold));

    [Fact]
    public void A_wrapped_previous_balancer_still_hands_over_its_state()
    {
        var peers = WithWeights(1, 1);
        var old = BalancerFactory.Create("least-connections", 10000, peers, SwitchableHealth.AllUp, TimeProvider.System, null, 10);
        old.Started(peers[0]);
        var next = (HealthThresholdBalancer)BalancerFactory.Create("least-connections", 10000, peers, SwitchableHealth.AllUp, TimeProvider.System, old, 10);
        Assert.Equal(1, ((LeastConnectionsBalancer)next.Inner).InFlight(peers[0]));
    }

    [Fact]
    public void Pick_does_not_allocate()
    {
        var balancer = BalancerFactory.Create("round-robin", 10000, WithWeights(1, 2, 3), SwitchableHealth.AllUp, TimeProvider.System, null, 30);
        Assert.Equal(0, AllocationProbe.LeastBytesPerBatch(() => balancer.Pick(null, null)));
    }
}
