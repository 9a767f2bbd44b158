using System.Globalization;
using System.Net;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Plugins;

/// <summary>rate-limiting's <c>redis</c> policy with <c>sync_rate</c> through the real proxy and a real redis-server,
/// on a clock the test moves: the first request reads the shared count with one INCR, later ones count locally
/// (Redis unchanged), the flush due <c>sync_rate</c> later sends the batched increments, and the next request reads
/// the shared value back — including what another node added meanwhile.</summary>
public sealed class RedisSyncRateTests
{
    [Fact]
    public async Task Sync_rate_counts_locally_and_flushes_increments_to_redis_in_one_batch()
    {
        using var redis = await RedisServer.StartAsync();
        var time = new ManualTime(new DateTimeOffset(2030, 1, 1, 10, 10, 0, TimeSpan.Zero));
        await using var gw = await PluginGateway.StartAsync(s => s.AddSingleton<TimeProvider>(time));
        await gw.ServiceAndRouteAsync("svc", "/sync");
        await gw.CreateAsync("/routes/svc-route/plugins", new
        {
            name = "rate-limiting",
            config = new { hour = 10, limit_by = "ip", policy = "redis", sync_rate = 1, redis = new { host = "127.0.0.1", port = redis.Port } },
        });

        await ExpectAsync(gw, HttpStatusCode.OK, remaining: 9);
        var key = await KeyAsync(redis);
        Assert.Equal(1, await CountAsync(redis, key)); // the first request read the shared count with INCR
        Assert.Equal(1, time.Pending); // and scheduled the flush

        for (var remaining = 8; remaining >= 6; remaining--) await ExpectAsync(gw, HttpStatusCode.OK, remaining);
        Assert.Equal(1, await CountAsync(redis, key)); // counted on this node only
        await redis.CommandAsync("INCRBY", key, "3"); // another node's flush lands meanwhile

        time.Advance(TimeSpan.FromSeconds(1));
        await WaitForCountAsync(redis, key, 7); // 1 + 3 (other node) + 3 (this node's batch)
        Assert.Equal(0, time.Pending);

        await ExpectAsync(gw, HttpStatusCode.OK, remaining: 2); // reads 7 back (INCR → 8)
        Assert.Equal(8, await CountAsync(redis, key));
        await ExpectAsync(gw, HttpStatusCode.OK, remaining: 1);
        await ExpectAsync(gw, HttpStatusCode.OK, remaining: 0);
        await ExpectAsync(gw, (HttpStatusCode)429, remaining: 0);
        Assert.Equal(8, await CountAsync(redis, key));

        time.Advance(TimeSpan.FromSeconds(1));
        await WaitForCountAsync(redis, key, 10); // the two allowed requests; the rejected one is not counted
        Assert.Contains("ratelimit:", key, StringComparison.Ordinal);
        Assert.EndsWith(":hour", key, StringComparison.Ordinal);
    }

    private static async Task ExpectAsync(PluginGateway gw, HttpStatusCode status, int remaining)
    {
        using var response = await gw.Proxy.GetAsync("/sync");
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(remaining.ToString(CultureInfo.InvariantCulture), response.Single("X-RateLimit-Remaining-Hour"));
    }

    private static async Task<string> KeyAsync(RedisServer redis)
    {
        var reply = await redis.CommandAsync("KEYS", "ratelimit:*");
        return Assert.Single(reply.Split("\r\n"), l => l.StartsWith("ratelimit:", StringComparison.Ordinal));
    }

    private static async Task<long> CountAsync(RedisServer redis, string key) =>
        long.Parse((await redis.CommandAsync("GET", key)).Split("\r\n")[^1], CultureInfo.InvariantCulture);

    private static async Task WaitForCountAsync(RedisServer redis, string key, long expected)
    {
        for (var i = 0; i < 200 && await CountAsync(redis, key) != expected; i++) await Task.Delay(25);
        Assert.Equal(expected, await CountAsync(redis, key));
    }
}
