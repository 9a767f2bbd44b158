using Gatehouse.Proxy.Balancing;
using static Gatehouse.Tests.Proxy.Balancing.BalancerTestPeers;

namespace Gatehouse.Tests.Proxy.Balancing;

public sealed class BalancerFactoryTests
{
    [Fact]
    public void Round_robin_is_built_by_its_Kong_name()
    {
        var balancer = BalancerFactory.Create("round-robin", 10000, WithWeights(1, 1), SwitchableHealth.AllUp, TimeProvider.System);
        Assert.IsType<RoundRobinBalancer>(balancer);
        Assert.Equal(2, balancer.Peers.Count);
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
