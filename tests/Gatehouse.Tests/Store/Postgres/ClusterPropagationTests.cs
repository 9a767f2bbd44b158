using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Store.Postgres;

/// <summary>
/// Two real gateway processes on one PostgreSQL database (issue 13 §3 and §5): a change made through either node's
/// Admin API is served by both, and <c>GET /clustering/status</c> shows both serving the same configuration.
/// </summary>
public sealed class ClusterPropagationTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly TempDir _dirA = new();
    private readonly TempDir _dirB = new();

    private sealed class Node(GatewayProcess process, HttpClient admin, HttpClient proxy) : IAsyncDisposable
    {
        private bool _disposed;
        public GatewayProcess Process { get; } = process;
        public HttpClient Admin { get; } = admin;
        public HttpClient Proxy { get; } = proxy;

        public async ValueTask DisposeAsync()
        {
            if (_disposed) return;
            _disposed = true;
            Admin.Dispose();
            Proxy.Dispose();
            await Process.DisposeAsync();
        }
    }

    private static HttpClient Client(Uri baseUri) =>
        new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };

    private async Task<(Node A, Node B, string Database)> StartTwoNodesAsync(string extraConf = "")
    {
        var server = await PostgresServer.SharedAsync();
        var database = (await server.CreateDatabaseAsync()).Database;
        var conf = server.ConfLines(database) + extraConf;
        // both start at once: migrations and cluster tables are created under advisory locks
        Task<GatewayProcess>[] starts =
            [GatewayProcess.StartInAsync(_dirA.Path, conf, admin: true, "--run-migrations"), GatewayProcess.StartInAsync(_dirB.Path, conf, admin: true, "--run-migrations")];
        GatewayProcess[] started;
        try { started = await Task.WhenAll(starts); }
        catch
        {
            // one node failed to start: stop the other, or its process outlives the test
            foreach (var start in starts)
                if (start.IsCompletedSuccessfully) await start.Result.DisposeAsync();
            throw;
        }
        return (new Node(started[0], Client(started[0].AdminUri!), Client(started[0].ProxyUri)),
            new Node(started[1], Client(started[1].AdminUri!), Client(started[1].ProxyUri)), database);
    }

    private static async Task<JsonNode> CreateAsync(Node node, string path, object body)
    {
        var (status, answer) = await AdminCalls.SendAsync(node.Admin, HttpMethod.Post, path, body);
        Assert.True(status == 201, $"POST {path}: {status} {answer?.ToJsonString()}\n{node.Process.Output}");
        return answer!;
    }

    private static async Task<HttpStatusCode> GetStatusAsync(HttpClient proxy, string path)
    {
        using var response = await proxy.GetAsync(path);
        return response.StatusCode;
    }

    /// <summary>Polls until <paramref name="path"/> answers 200 through <paramref name="proxy"/>; returns how long it took.</summary>
    private static async Task<TimeSpan> WaitServedAsync(HttpClient proxy, string path, string node)
    {
        var clock = Stopwatch.StartNew();
        while (await GetStatusAsync(proxy, path) != HttpStatusCode.OK)
        {
            if (clock.Elapsed > Patience) Assert.Fail($"{path} is still not served by node {node} after {Patience}");
            await Task.Delay(20);
        }
        return clock.Elapsed;
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, string what) where T : class
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await probe() is { } found) return found;
            if (clock.Elapsed > Patience) Assert.Fail("never happened: " + what);
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_thousand_writes_over_two_nodes_are_served_by_both_and_no_proxied_request_fails()
    {
        await using var echo = await EchoUpstream.StartAsync();
        var (a, b, _) = await StartTwoNodesAsync();
        await using var _a = a;
        await using var _b = b;
        var nodes = new[] { a, b };
        await CreateAsync(a, "/services", new { name = "echo", url = echo.BaseUri.ToString() });
        await CreateAsync(a, "/services/echo/routes", new { name = "known", paths = new[] { "/known" } });
        foreach (var (node, i) in nodes.Select((n, i) => (n, i))) await WaitServedAsync(node.Proxy, "/known", "AB"[i].ToString());

        // the load: one loop per node proxying a route every write leaves alone
        using var stopLoad = new CancellationTokenSource();
        long served = 0, failed = 0;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var load = nodes.Select(n => Task.Run(async () =>
        {
            while (!stopLoad.IsCancellationRequested)
            {
                try
                {
                    var status = await GetStatusAsync(n.Proxy, "/known");
                    if (status == HttpStatusCode.OK) Interlocked.Increment(ref served);
                    else { Interlocked.Increment(ref failed); failures.Enqueue(((int)status).ToString(CultureInfo.InvariantCulture)); }
                }
                catch (HttpRequestException e) { Interlocked.Increment(ref failed); failures.Enqueue(e.Message); }
            }
        })).ToList();

        // the writes: 1,000 new routes, each through one node in turn, four writers at once; each is then awaited
        // through both proxies, the time from the Admin answer to the first 200 recorded per node
        const int Writes = 1000;
        var remote = new TimeSpan[Writes];
        var local = new TimeSpan[Writes];
        var next = -1;
        var writers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < Writes; i = Interlocked.Increment(ref next))
            {
                var (writer, other) = i % 2 == 0 ? (a, b) : (b, a);
                await CreateAsync(writer, "/services/echo/routes", new { name = $"w{i}", paths = new[] { $"/w{i}" } });
                var seen = await Task.WhenAll(WaitServedAsync(writer.Proxy, $"/w{i}", "writer"), WaitServedAsync(other.Proxy, $"/w{i}", "other"));
                (local[i], remote[i]) = (seen[0], seen[1]);
            }
        })).ToList();
        await Task.WhenAll(writers);
        await stopLoad.CancelAsync();
        await Task.WhenAll(load);

        // no write lost: every route is still served by both nodes at the end
        for (var i = 0; i < Writes; i++)
            foreach (var node in nodes)
                Assert.Equal(HttpStatusCode.OK, await GetStatusAsync(node.Proxy, $"/w{i}"));
        var sorted = remote.Order().ToArray();
        string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture) + " ms";
        output.WriteLine($"visibility on the other node after the Admin answer ({Writes} writes): p50 {Ms(sorted[Writes / 2])}, " +
            $"p90 {Ms(sorted[Writes * 9 / 10])}, p99 {Ms(sorted[Writes * 99 / 100])}, max {Ms(sorted[^1])}; " +
            $"on the writing node max {Ms(local.Max())}; {served} proxied requests of the load, {failed} failed");
        Assert.True(failed == 0, $"{failed} proxied requests failed: {string.Join(", ", failures.Take(5))}");
        Assert.True(served > 0);
    }

    [Fact]
    public async Task A_change_without_notification_is_served_after_the_next_db_update_frequency_poll()
    {
        await using var echo = await EchoUpstream.StartAsync();
        var (a, b, database) = await StartTwoNodesAsync("db_update_frequency = 0.2\n");
        await using var _a = a;
        await using var _b = b;
        await CreateAsync(a, "/services", new { name = "echo", url = echo.BaseUri + "before" });
        await CreateAsync(a, "/services/echo/routes", new { name = "r", paths = new[] { "/r" } });
        await WaitServedAsync(b.Proxy, "/r", "B");

        // a change written behind the nodes' backs with its cluster_events row but no NOTIFY (as a lost notification)
        var server = await PostgresServer.SharedAsync();
        await using (var conn = new NpgsqlConnection(server.ConnectionString(database)))
        {
            await conn.OpenAsync();
            await using var change = new NpgsqlCommand("""
                UPDATE services SET doc = jsonb_set(doc::jsonb, '{path}', '"/after"')::text WHERE name = 'echo';
                INSERT INTO cluster_events (node_id, channel, expire_at) VALUES (gen_random_uuid(), 'invalidations', now() + interval '1 hour')
                """, conn);
            await change.ExecuteNonQueryAsync();
        }
        foreach (var node in new[] { a, b })
        {
            var path = await WaitForAsync(async () =>
            {
                using var response = await node.Proxy.GetAsync("/r");
                var echoed = (await response.EchoAsync()).Path;
                return echoed.StartsWith("/after", StringComparison.Ordinal) ? echoed : null;
            }, "the changed service path is served");
            Assert.StartsWith("/after", path);
        }
    }

    [Fact]
    public async Task Clustering_status_lists_both_nodes_serving_the_same_configuration_and_a_stopped_one_as_stale()
    {
        var (a, b, _) = await StartTwoNodesAsync("db_update_frequency = 0.5\n");
        await using var _a = a;
        await using var _b = b;
        var idA = (string)(await AdminCalls.SendAsync(a.Admin, HttpMethod.Get, "/")).Body!["node_id"]!;
        var idB = (string)(await AdminCalls.SendAsync(b.Admin, HttpMethod.Get, "/")).Body!["node_id"]!;
        Assert.NotEqual(idA, idB);

        async Task<JsonObject?> Converged(Node node, string? notHash)
        {
            var (status, body) = await AdminCalls.SendAsync(node.Admin, HttpMethod.Get, "/clustering/status");
            Assert.Equal(200, status);
            var nodes = body!.AsObject();
            if (nodes[idA] is not JsonObject na || nodes[idB] is not JsonObject nb) return null;
            var hash = (string?)na["config_hash"];
            return hash is { Length: 32 } && hash == (string?)nb["config_hash"] && hash != notHash ? nodes : null;
        }

        var before = await WaitForAsync(() => Converged(b, null), "both nodes listed with one hash");
        var firstHash = (string)before[idA]!["config_hash"]!;
        Assert.Equal(Environment.MachineName, (string?)before[idB]!["hostname"]);
        Assert.False((bool)before[idA]!["stale"]!);

        // a change through B: both nodes serve it, and both report the new hash
        await CreateAsync(b, "/services", new { name = "s", url = "http://127.0.0.1:9/" });
        var after = await WaitForAsync(() => Converged(a, firstHash), "both nodes listed with the new hash");
        Assert.Equal(2, after.Count);

        // B stops: A lists it as stale
        await b.DisposeAsync();
        await WaitForAsync(async () =>
        {
            var (_, body) = await AdminCalls.SendAsync(a.Admin, HttpMethod.Get, "/clustering/status");
            return body![idB] is JsonObject nb && (bool)nb["stale"]! && !(bool)body[idA]!["stale"]! ? body : null;
        }, "the stopped node listed as stale");
    }

    public void Dispose()
    {
        _dirA.Dispose();
        _dirB.Dispose();
    }
}
