using Gatehouse.Proxy.Balancing;
using static Gatehouse.Tests.Proxy.Balancing.BalancerTestPeers;

namespace Gatehouse.Tests.Proxy.Balancing;

public sealed class BalancerFactoryTests
{
    [Theory]
    [InlineData("round-robin", typeof(RoundRobinBalancer))]
    [InlineData("consistent-hashing", typeof(ConsistentHashingBalancer))]
    [InlineData("least-connections", typeof(LeastConnectionsBalancer))]
    [InlineData("latency", typeof(LatencyBalancer))]
    public void Each_Kong_algorithm_is_built_by_its_name(string algorithm, Type type)
    {
        var balancer = BalancerFactory.Create(algorithm, 10000, WithWeights(1, 1), SwitchableHealth.AllUp, TimeProvider.System);
        Assert.IsType(type, balancer);
        Assert.Equal(2, balancer.Peers.Count);
        Assert.NotNull(balancer.Pick("key", null));
    }

    [Fact]
    public void A_previous_balancer_of_another_algorithm_is_ignored()
    {
        var peers = WithWeights(1, 1);
        var old = new LeastConnectionsBalancer(peers, SwitchableHealth.AllUp);
        old.Started(peers[0]);
        var next = (LatencyBalancer)BalancerFactory.Create("latency", 10000, peers, SwitchableHealth.AllUp, TimeProvider.System, old);
        Assert.Equal(0, next.InFlight(peers[0]));
    }

    [Fact]
    public void Consistent_hashing_is_built_with_its_slots()
    {
        var balancer = BalancerFactory.Create("consistent-hashing", 20000, WithWeights(1, 1), SwitchableHealth.AllUp, TimeProvider.System);
        Assert.Equal(20000, Assert.IsType<ConsistentHashingBalancer>(balancer).RingSize);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            BalancerFactory.Create("consistent-hashing", 5, WithWeights(1), SwitchableHealth.AllUp, TimeProvider.System));
    }

    [Theory]
    [InlineData("round-robin", -1)]
    [InlineData("least-connections", 65536)]
    public void Weights_outside_0_to_65535_are_refused(string algorithm, int weight)
    {
        var error = Assert.Throws<ArgumentException>(() =>
            BalancerFactory.Create(algorithm, 10000, WithWeights(1, weight), SwitchableHealth.AllUp, TimeProvider.System));
        Assert.Contains($"weight {weight}", error.Message);
    }

    [Theory]
    [InlineData("roundrobin")]
    [InlineData("Round-Robin")]
    [InlineData("")]
    public void Unknown_algorithm_is_an_argument_error_naming_it(string algorithm)
    {
        var error = Assert.Throws<ArgumentException>(() =>
            BalancerFactory.Create(algorithm, 10000, WithWeights(1), SwitchableHealth.AllUp, TimeProvider.System));
        Assert.Contains($"'{algorithm}'", error.Message);
    }
}
