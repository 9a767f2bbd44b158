using System.Collections.Concurrent;
using System.Net;
using Gatehouse.Model;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Infrastructure.TestConfig;

namespace Gatehouse.Tests.Proxy;

/// <summary>Configuration swaps under load: requests to a route present in every configuration never fail while
/// other routes are added and removed.</summary>
public sealed class ConfigChurnTests
{
    [Fact]
    public async Task StableRouteNeverFailsWhileRoutesChurn()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await GatewayFixture.StartAsync(configure: o => o with { ProxyAccessLog = null });
        var service = Service(upstream);
        var stable = Route(service, "stable", paths: ["/stable"]);
        gateway.Publish(Of([service], [stable]));

        using var stop = new CancellationTokenSource();
        var failures = new ConcurrentQueue<string>();
        var churnHits = 0;
        var sent = 0;
        async Task ClientLoopAsync()
        {
            for (var i = 0; i < 150; i++)
            {
                using var response = await gateway.Client.GetAsync($"/stable/{i}");
                Interlocked.Increment(ref sent);
                if (response.StatusCode != HttpStatusCode.OK || (await response.EchoAsync()).Path != $"/{i}")
                    failures.Enqueue($"{i}: {(int)response.StatusCode}");
                using var churn = await gateway.Client.GetAsync($"/churn-{i % 7}/x");
                if (churn.StatusCode == HttpStatusCode.OK) Interlocked.Increment(ref churnHits);
                else if (churn.StatusCode != HttpStatusCode.NotFound) failures.Enqueue($"churn {i}: {(int)churn.StatusCode}");
            }
        }
        var publisher = Task.Run(() =>
        {
            var generation = 0;
            while (!stop.IsCancellationRequested && generation < 2_000)
            {
                generation++;
                var extra = Enumerable.Range(0, 20)
                    .Where(n => (n + generation) % 3 != 0)
                    .Select(n => Route(service, $"churn-{n}", paths: [$"/churn-{n % 7}"], hosts: n % 2 == 0 ? [] : [$"h{n}.test"]));
                gateway.Publish(Of([service], [stable, .. extra]));
                Thread.Sleep(1);
            }
        });
        await Task.WhenAll(ClientLoopAsync(), ClientLoopAsync(), ClientLoopAsync());
        stop.Cancel();
        await publisher;

        Assert.Equal(450, sent);
        Assert.Empty(failures);
        Assert.True(churnHits > 0, "churned routes were never matched");
        Assert.True(gateway.Host.Publisher.Current.Version > 10, "configuration did not churn");
    }
}
