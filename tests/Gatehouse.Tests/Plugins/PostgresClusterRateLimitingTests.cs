using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Store;
using Gatehouse.Tests.Store.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Plugins;

/// <summary>rate-limiting's <c>cluster</c> policy with <c>database = postgres</c>: two real gateway processes on one
/// PostgreSQL database count one limit in Kong's <c>ratelimiting_metrics</c> table (created by the migrations, expired
/// rows deleted); with the database down the request is proxied unlimited (<c>fault_tolerant</c>) or answered 500.</summary>
public sealed class PostgresClusterRateLimitingTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Two_gateway_processes_on_one_database_count_one_limit_in_ratelimiting_metrics()
    {
        var server = await PostgresServer.SharedAsync();
        var database = (await server.CreateDatabaseAsync()).Database;
        var connection = server.ConnectionString(database);
        await using var upstream = await EchoUpstream.StartAsync();
        using var dirA = new TempDir();
        using var dirB = new TempDir();
        await using var a = await GatewayProcess.StartInAsync(dirA.Path, server.ConfLines(database), admin: true, "--run-migrations");
        using var adminA = new HttpClient { BaseAddress = a.AdminUri };
        await CreateAsync(adminA, "/services", new { name = "shared", url = $"http://127.0.0.1:{upstream.Port}" });
        var routeId = (string)(await CreateAsync(adminA, "/services/shared/routes", new { name = "shared-route", paths = new[] { "/shared" } }))["id"]!;
        // A year window: the count cannot roll over between the requests of the test.
        await CreateAsync(adminA, "/routes/shared-route/plugins", new { name = "rate-limiting", config = new { year = 4, limit_by = "ip", policy = "cluster" } });
        var burstId = (string)(await CreateAsync(adminA, "/services/shared/routes", new { name = "burst-route", paths = new[] { "/burst" } }))["id"]!;
        await CreateAsync(adminA, "/routes/burst-route/plugins", new { name = "rate-limiting", config = new { year = 20, policy = "cluster" } });
        Assert.Equal(
            ["identifier:text", "period:text", "period_date:timestamp with time zone", "service_id:uuid", "route_id:uuid",
             "value:integer", "ttl:timestamp with time zone"],
            await ColumnsAsync(connection));
        // A row whose window is over: a flush deletes it.
        await ExecAsync(connection, """
            INSERT INTO ratelimiting_metrics (identifier, period, period_date, service_id, route_id, value, ttl)
            VALUES ('old', 'second', now() - interval '1 hour', gen_random_uuid(), gen_random_uuid(), 7, now() - interval '1 hour')
            """);
        // The second node starts on the same database, so it loads the same route and plugin.
        await using var b = await GatewayProcess.StartInAsync(dirB.Path, server.ConfLines(database), admin: true, "--run-migrations");
        using var proxyA = new HttpClient { BaseAddress = a.ProxyUri };
        using var proxyB = new HttpClient { BaseAddress = b.ProxyUri };

        var nodes = new[] { proxyA, proxyB, proxyB, proxyA };
        for (var i = 0; i < nodes.Length; i++)
        {
            using var ok = await nodes[i].GetAsync("/shared");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("4", ok.Single("X-RateLimit-Limit-Year"));
            Assert.Equal((3 - i).ToString(CultureInfo.InvariantCulture), ok.Single("X-RateLimit-Remaining-Year"));
            // Kong increments after the request: wait until this node's increment is in the database.
            await WaitForAsync(() => CountAsync(connection, routeId), i + 1);
        }
        foreach (var node in new[] { proxyB, proxyA })
        {
            using var limited = await node.GetAsync("/shared");
            Assert.Equal((HttpStatusCode)429, limited.StatusCode);
            Assert.Equal("API rate limit exceeded", (string?)JsonNode.Parse(await limited.Content.ReadAsStringAsync())!["message"]);
            Assert.Equal("0", limited.Single("X-RateLimit-Remaining-Year"));
        }
        Assert.Equal(4, await CountAsync(connection, routeId)); // rejected requests are not counted
        await WaitForAsync(() => ScalarAsync(connection, "SELECT count(*) FROM ratelimiting_metrics WHERE identifier = 'old'"), 0);

        // A concurrent burst over both nodes: the limit lets at least its 20 through (more only by the requests that
        // read before earlier increments were committed: docs/cluster.md), and both nodes' concurrent flushes lose no
        // increment: the stored count is exactly the number of requests let through.
        var burst = await Task.WhenAll(Enumerable.Range(0, 60).Select(async i =>
        {
            using var response = await (i % 2 == 0 ? proxyA : proxyB).GetAsync("/burst");
            return (int)response.StatusCode;
        }));
        Assert.All(burst, status => Assert.True(status is 200 or 429, status.ToString(CultureInfo.InvariantCulture)));
        var allowed = burst.Count(status => status == 200);
        Assert.InRange(allowed, 20, 60);
        output.WriteLine($"burst of 60 over two nodes, limit 20: {allowed} let through");
        await WaitForAsync(() => CountAsync(connection, burstId), allowed);
    }

    [Fact]
    public async Task With_the_database_down_the_policy_fails_open_when_fault_tolerant_and_answers_500_when_not()
    {
        await using var server = await PostgresServer.StartAsync();
        var options = await server.CreateDatabaseAsync();
        var logs = new LogCapture();
        await using var gw = await PluginGateway.StartAsync(
            configure: o => o with { Database = DatabaseKind.Postgres, Postgres = options, SqlitePath = null },
            logging: l => { l.ClearProviders(); logs.Install(l); });
        await gw.ServiceAndRouteAsync("tolerant", "/tolerant");
        await gw.ServiceAndRouteAsync("strict", "/strict");
        await gw.CreateAsync("/routes/tolerant-route/plugins", new { name = "rate-limiting", config = new { year = 5, policy = "cluster" } });
        await gw.CreateAsync("/routes/strict-route/plugins", new { name = "rate-limiting", config = new { year = 5, policy = "cluster", fault_tolerant = false } });
        foreach (var path in new[] { "/tolerant", "/strict" })
        {
            using var counted = await gw.Proxy.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, counted.StatusCode);
            Assert.Equal("4", counted.Single("X-RateLimit-Remaining-Year"));
        }
        var connection = server.ConnectionString(options.Database);
        await WaitForAsync(() => ScalarAsync(connection, "SELECT COALESCE(SUM(value), 0) FROM ratelimiting_metrics"), 2);

        await server.StopAsync();
        using (var open = await gw.Proxy.GetAsync("/tolerant"))
        {
            Assert.Equal(HttpStatusCode.OK, open.StatusCode);
            Assert.Null(open.Single("X-RateLimit-Remaining-Year")); // not limited, so no count to tell
        }
        using (var closed = await gw.Proxy.GetAsync("/strict"))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, closed.StatusCode);
            Assert.Equal("An unexpected error occurred", (string?)JsonNode.Parse(await closed.Content.ReadAsStringAsync())!["message"]);
        }
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Error && e.Message.StartsWith("failed to get usage from the cluster counters", StringComparison.Ordinal));

        // Back: the counts kept in the database are used again (pooled connections broken by the restart fail once each).
        await server.RestartAsync();
        string? remaining = null;
        for (var i = 0; i < 50 && remaining is null; i++)
        {
            using var again = await gw.Proxy.GetAsync("/tolerant");
            remaining = again.Single("X-RateLimit-Remaining-Year");
        }
        Assert.Equal("3", remaining);
    }

    private static async Task<JsonNode> CreateAsync(HttpClient admin, string path, object json)
    {
        var (status, body) = await AdminCalls.SendAsync(admin, HttpMethod.Post, path, json);
        Assert.True(status == 201, $"{path}: {status} {body?.ToJsonString()}");
        return body!;
    }

    private static async Task<List<string>> ColumnsAsync(string connection)
    {
        await using var conn = new NpgsqlConnection(connection);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'ratelimiting_metrics' ORDER BY ordinal_position", conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var columns = new List<string>();
        while (await reader.ReadAsync()) columns.Add(reader.GetString(0) + ":" + reader.GetString(1));
        return columns;
    }

    private static Task<long> CountAsync(string connection, string routeId) => ScalarAsync(connection,
        $"SELECT COALESCE(SUM(value), 0) FROM ratelimiting_metrics WHERE route_id = '{routeId}' AND period = 'year'");

    private static async Task<long> ScalarAsync(string connection, string sql)
    {
        await using var conn = new NpgsqlConnection(connection);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private static async Task ExecAsync(string connection, string sql)
    {
        await using var conn = new NpgsqlConnection(connection);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>Increments land after the request: polls until <paramref name="read"/> reaches
    /// <paramref name="expected"/> (bounded), then asserts it.</summary>
    private static async Task WaitForAsync(Func<Task<long>> read, long expected)
    {
        for (var i = 0; i < 200; i++)
        {
            if (await read() == expected) break;
            await Task.Delay(25);
        }
        Assert.Equal(expected, await read());
    }
}
