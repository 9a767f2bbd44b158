using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Plugins;

/// <summary>rate-limiting's <c>cluster</c> policy through the real proxy: two gateways on one SQLite file count one
/// limit in Kong's <c>ratelimiting_metrics</c> table; Kong's schema rules (sync_rate only with redis, no cluster policy
/// on a DB-less node).</summary>
public sealed class ClusterRateLimitingTests
{
    [Fact]
    public async Task Two_gateways_sharing_one_sqlite_file_count_one_limit()
    {
        // One fixed clock for both nodes: the hour window cannot roll over mid-test.
        var time = new ManualTime(new DateTimeOffset(2030, 1, 1, 10, 10, 0, TimeSpan.Zero));
        await using var a = await PluginGateway.StartAsync(s => s.AddSingleton<TimeProvider>(time));
        var (_, routeId) = await a.ServiceAndRouteAsync("shared", "/shared");
        await a.CreateAsync("/routes/shared-route/plugins", new { name = "rate-limiting", config = new { hour = 3, limit_by = "ip", policy = "cluster" } });
        var db = Path.Combine(a.Prefix, "gatehouse.db");
        // The second node starts on the same database, so it loads the same route and plugin.
        await using var b = await PluginGateway.StartAsync(s => s.AddSingleton<TimeProvider>(time), o => o with { SqlitePath = db });

        var gateways = new[] { a, b, a };
        for (var i = 0; i < 3; i++)
        {
            using var ok = await gateways[i].Proxy.GetAsync("/shared");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("3", ok.Single("X-RateLimit-Limit-Hour"));
            Assert.Equal((2 - i).ToString(CultureInfo.InvariantCulture), ok.Single("X-RateLimit-Remaining-Hour"));
            // Kong increments after the request: wait until this node's increment is in the database.
            await WaitForCountAsync(db, routeId, i + 1);
        }
        using var limited = await b.Proxy.GetAsync("/shared");
        Assert.Equal((HttpStatusCode)429, limited.StatusCode);
        Assert.Equal("API rate limit exceeded", (string?)JsonNode.Parse(await limited.Content.ReadAsStringAsync())!["message"]);
        Assert.Equal("0", limited.Single("X-RateLimit-Remaining-Hour"));
        Assert.Equal(3, await CountAsync(db, routeId)); // a rejected request is not counted
    }

    [Fact]
    public async Task Sync_rate_needs_the_redis_policy_and_cluster_is_refused_without_a_database()
    {
        await using var gw = await PluginGateway.StartAsync();
        var (status, body) = await gw.PostAsync("/plugins", new { name = "rate-limiting", config = new { minute = 1, policy = "cluster", sync_rate = 1 } });
        Assert.Equal(400, status);
        Assert.Contains("sync_rate can only be used with the redis policy", body!.ToJsonString(), StringComparison.Ordinal);
        var (tooFast, fastBody) = await gw.PostAsync("/plugins", new { name = "rate-limiting", config = new { minute = 1, policy = "redis", sync_rate = 0.01, redis = new { host = "127.0.0.1" } } });
        Assert.Equal(400, tooFast);
        Assert.Contains("sync_rate must be greater than 0.02, or -1 to disable", fastBody!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(-1, (double)(await gw.CreateAsync("/plugins", new { name = "rate-limiting", config = new { minute = 1, policy = "cluster" } }))["config"]!["sync_rate"]!);

        await using var dbless = await PluginGateway.StartAsync(configure: o => o with { Database = DatabaseKind.Off });
        var yaml = """
            _format_version: "3.0"
            plugins:
              - name: rate-limiting
                config: { minute: 1, policy: cluster }
            """;
        var (s, refused) = await dbless.SendAsync(HttpMethod.Post, "/config", new JsonObject { ["config"] = yaml }.ToJsonString());
        Assert.Equal(400, s);
        Assert.Equal("expected one of: local, redis", (string?)refused!["fields"]!["plugins"]![0]!["config"]!["policy"]);
        var (ok, _) = await dbless.SendAsync(HttpMethod.Post, "/config", new JsonObject { ["config"] = yaml.Replace("cluster", "local", StringComparison.Ordinal) }.ToJsonString());
        Assert.Equal(201, ok);
    }

    private static async Task<long> CountAsync(string db, string routeId)
    {
        await using var conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = db, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await conn.OpenAsync();
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT COALESCE(SUM(value), 0) FROM ratelimiting_metrics WHERE route_id = $r AND period = 'hour'";
        cmd.Parameters.AddWithValue("$r", routeId);
        try { return (long)(await cmd.ExecuteScalarAsync())!; }
        catch (SqliteException) { return 0; } // table not created yet
    }

    private static async Task WaitForCountAsync(string db, string routeId, long expected)
    {
        for (var i = 0; i < 200; i++)
        {
            if (await CountAsync(db, routeId) >= expected) break;
            await Task.Delay(25);
        }
        Assert.Equal(expected, await CountAsync(db, routeId));
    }
}
