using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Plugins;

/// <summary>rate-limiting's <c>redis</c> policy through the real proxy against a real redis-server: two gateways
/// sharing one Redis see one limit, Kong's legacy flat fields, fault_tolerant on a dead Redis, config checks.</summary>
public sealed class RedisRateLimitingTests
{
    private const string ServiceId = "5f2c3d1e-0a4b-4c6d-8e9f-0123456789ab";
    private const string RouteId = "6a3d4e2f-1b5c-4d7e-9fa0-123456789abc";

    [Fact]
    public async Task Two_gateways_sharing_one_redis_count_one_limit()
    {
        using var redis = await RedisServer.StartAsync();
        await using var a = await PluginGateway.StartAsync();
        await using var b = await PluginGateway.StartAsync();
        await SameRouteAsync(a);
        await SameRouteAsync(b);
        await a.CreateAsync($"/routes/{RouteId}/plugins", new
        {
            name = "rate-limiting",
            config = new { hour = 3, limit_by = "ip", policy = "redis", redis = new { host = "127.0.0.1", port = redis.Port } },
        });
        // Kong 3.9 still accepts the deprecated flat fields.
        await b.CreateAsync($"/routes/{RouteId}/plugins", new
        {
            name = "rate-limiting",
            config = new { hour = 3, limit_by = "ip", policy = "redis", redis_host = "127.0.0.1", redis_port = redis.Port },
        });

        var gateways = new[] { a, b, a };
        for (var i = 0; i < 3; i++)
        {
            using var ok = await gateways[i].Proxy.GetAsync("/shared");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("3", ok.Single("X-RateLimit-Limit-Hour"));
            Assert.Equal((2 - i).ToString(CultureInfo.InvariantCulture), ok.Single("X-RateLimit-Remaining-Hour"));
            Assert.Equal((2 - i).ToString(CultureInfo.InvariantCulture), ok.Single("RateLimit-Remaining"));
        }
        using var limited = await b.Proxy.GetAsync("/shared");
        Assert.Equal((HttpStatusCode)429, limited.StatusCode);
        Assert.Equal("API rate limit exceeded", (string?)JsonNode.Parse(await limited.Content.ReadAsStringAsync())!["message"]);
        Assert.Equal("0", limited.Single("X-RateLimit-Remaining-Hour"));
        Assert.NotNull(limited.Single("Retry-After"));

        // The count really is in Redis, under Kong's key shape, with an expiry.
        var keys = await redis.CommandAsync("KEYS", "ratelimit:*");
        Assert.Contains($"ratelimit:{RouteId}:00000000-0000-0000-0000-000000000000:", keys, StringComparison.Ordinal);
        Assert.Contains(":hour", keys, StringComparison.Ordinal);
        // As Kong's realtime policy, the rejected request was counted too (INCR before the check).
        var key = keys.Split("\r\n").Single(l => l.StartsWith("ratelimit:", StringComparison.Ordinal));
        Assert.EndsWith("\r\n4", await redis.CommandAsync("GET", key), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dead_redis_proxies_when_fault_tolerant_and_answers_500_otherwise()
    {
        await using var gw = await PluginGateway.StartAsync();
        await gw.ServiceAndRouteAsync("tolerant", "/tolerant");
        await gw.ServiceAndRouteAsync("strict", "/strict");
        var deadPort = Infrastructure.EchoUpstream.ClosedPort();
        await gw.CreateAsync("/routes/tolerant-route/plugins", new
        {
            name = "rate-limiting",
            config = new { minute = 1, policy = "redis", redis = new { host = "127.0.0.1", port = deadPort, timeout = 500 } },
        });
        await gw.CreateAsync("/routes/strict-route/plugins", new
        {
            name = "rate-limiting",
            config = new { minute = 1, policy = "redis", fault_tolerant = false, redis = new { host = "127.0.0.1", port = deadPort, timeout = 500 } },
        });

        for (var i = 0; i < 2; i++)
        {
            using var tolerant = await gw.Proxy.GetAsync("/tolerant");
            Assert.Equal(HttpStatusCode.OK, tolerant.StatusCode);
            Assert.Null(tolerant.Single("X-RateLimit-Limit-Minute"));
        }
        using var strict = await gw.Proxy.GetAsync("/strict");
        Assert.Equal(HttpStatusCode.InternalServerError, strict.StatusCode);
        Assert.Equal("An unexpected error occurred", (string?)JsonNode.Parse(await strict.Content.ReadAsStringAsync())!["message"]);
    }

    [Fact]
    public async Task Redis_policy_needs_a_host_and_defaults_the_record()
    {
        await using var gw = await PluginGateway.StartAsync();
        var (status, body) = await gw.PostAsync("/plugins", new { name = "rate-limiting", config = new { minute = 1, policy = "redis" } });
        Assert.Equal(400, status);
        Assert.Contains("policy", body!.ToJsonString(), StringComparison.Ordinal);

        var created = await gw.CreateAsync("/plugins", new { name = "rate-limiting", config = new { minute = 1, policy = "redis", redis = new { host = "redis.test" } } });
        var redis = created["config"]!["redis"]!;
        Assert.Equal(6379, (int)redis["port"]!);
        Assert.Equal(0, (int)redis["database"]!);
        Assert.Equal(2000, (int)redis["timeout"]!);
    }

    [Fact]
    public async Task Tls_to_redis_sends_server_name_and_verifies_only_when_ssl_verify()
    {
        using var redis = await RedisServer.StartAsync();
        using var relay = TlsRelay.Start(redis.Port); // a TLS front with a self-signed certificate
        await using var gw = await PluginGateway.StartAsync();
        await gw.ServiceAndRouteAsync("lax", "/lax");
        await gw.ServiceAndRouteAsync("strict", "/strict");
        await gw.CreateAsync("/routes/lax-route/plugins", new
        {
            name = "rate-limiting",
            config = new
            {
                minute = 5, policy = "redis", fault_tolerant = false,
                redis = new { host = "127.0.0.1", port = relay.Port, timeout = 1000, ssl = true, ssl_verify = false, server_name = TlsRelay.CertificateName },
            },
        });
        // Kong 3.9's flat spellings of the same settings.
        await gw.CreateAsync("/routes/strict-route/plugins", new
        {
            name = "rate-limiting",
            config = new
            {
                minute = 5, policy = "redis", fault_tolerant = false, redis_host = "127.0.0.1", redis_port = relay.Port, redis_timeout = 1000,
                redis_ssl = true, redis_ssl_verify = true, redis_server_name = TlsRelay.CertificateName,
            },
        });

        // ssl_verify = false (Kong's default): the self-signed certificate is accepted and the count is in Redis.
        for (var i = 4; i >= 3; i--)
        {
            using var ok = await gw.Proxy.GetAsync("/lax");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal(i.ToString(CultureInfo.InvariantCulture), ok.Single("X-RateLimit-Remaining-Minute"));
        }
        Assert.Contains(TlsRelay.CertificateName, relay.ServerNames);
        Assert.Contains("ratelimit:", await redis.CommandAsync("KEYS", "ratelimit:*"), StringComparison.Ordinal);

        // ssl_verify = true: the certificate is not trusted, so Redis is unreachable (500 as fault_tolerant is off).
        using var refused = await gw.Proxy.GetAsync("/strict");
        Assert.Equal(HttpStatusCode.InternalServerError, refused.StatusCode);
    }

    [Fact]
    public async Task Redis_server_name_must_be_an_sni()
    {
        await using var gw = await PluginGateway.StartAsync();
        var (status, body) = await gw.PostAsync("/plugins", new
        {
            name = "rate-limiting", config = new { minute = 1, policy = "redis", redis = new { host = "h.test", ssl = true, server_name = "1.2.3.4" } },
        });
        Assert.Equal(400, status);
        Assert.NotNull(body!["fields"]!["config"]!["redis"]!["server_name"]);
    }

    private static async Task SameRouteAsync(PluginGateway gw)
    {
        await gw.CreateAsync("/services", new { id = ServiceId, name = "shared", url = $"http://127.0.0.1:{gw.Upstream.Port}" });
        await gw.CreateAsync($"/services/{ServiceId}/routes", new { id = RouteId, name = "shared-route", paths = new[] { "/shared" } });
    }
}
