using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Store.Postgres;

/// <summary>
/// #13 item 4, with real gateway processes on a private PostgreSQL server that is stopped and restarted: nodes keep
/// proxying on their last configuration, the Admin API refuses writes with 503 and answers reads from the snapshot
/// (<c>X-Gatehouse-Data-Source</c>), <c>/status</c> says the database is unreachable, and every node converges when it
/// returns; a node restarted meanwhile starts from the snapshot it persisted under its prefix.
/// </summary>
public sealed class PostgresOutageTests
{
    private const string SourceHeader = "X-Gatehouse-Data-Source";
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30); // what the issue asks for
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Two_nodes_under_load_ride_out_a_30_second_outage_and_converge_when_the_database_returns()
    {
        await using var pg = await PostgresServer.StartAsync();
        var db = (await pg.CreateDatabaseAsync()).Database;
        await using var echo = await EchoUpstream.StartAsync();
        await using var relay = TcpRelay.Start(pg.Port); // node B reaches the database through it: B alone can be cut off
        using var dirA = new TempDir();
        using var dirB = new TempDir();
        await using var a = await GatewayProcess.StartInAsync(dirA.Path, pg.ConfLines(db), admin: true, "--run-migrations");
        using var adminA = new HttpClient { BaseAddress = a.AdminUri };
        await CreateRouteAsync(adminA, "known", echo);
        await CreateRouteAsync(adminA, "keyed", echo); // key-auth: consumers and credentials come from the published configuration
        Assert.Equal(201, (await SendAsync(adminA, HttpMethod.Post, "/routes/keyed-route/plugins", new { name = "key-auth" })).Status);
        Assert.Equal(201, (await SendAsync(adminA, HttpMethod.Post, "/consumers", new { username = "alice" })).Status);
        Assert.Equal(201, (await SendAsync(adminA, HttpMethod.Post, "/consumers/alice/key-auth", new { key = "alice-key" })).Status);
        await using var b = await GatewayProcess.StartInAsync(dirB.Path, pg.ConfLines(db).Replace($"pg_port = {pg.Port}", $"pg_port = {relay.Port}"), admin: true, "--run-migrations");
        using var adminB = new HttpClient { BaseAddress = b.AdminUri };
        using var proxyA = new HttpClient { BaseAddress = a.ProxyUri };
        using var proxyB = new HttpClient { BaseAddress = b.ProxyUri };
        Assert.Equal(HttpStatusCode.OK, (await proxyA.GetAsync("/known")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await proxyB.GetAsync("/known")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await proxyB.GetAsync("/keyed")).StatusCode);

        using var stopLoad = new CancellationTokenSource();
        var load = new[] { proxyA, proxyB }
            .SelectMany(client => new[] { LoadAsync(client, "/known", null, stopLoad.Token), LoadAsync(client, "/keyed", "alice-key", stopLoad.Token) })
            .ToArray();

        await pg.StopAsync();
        var outageStarted = DateTime.UtcNow;
        foreach (var (admin, port) in new[] { (adminA, pg.Port), (adminB, relay.Port) })
        {
            await Eventually.TrueAsync(async () => await ReachableAsync(admin) == false, within: Bound);
            var (status, body) = await SendAsync(admin, HttpMethod.Post, "/services", new { name = "refused", url = echo.BaseUri.ToString() });
            Assert.Equal(503, status);
            Assert.Equal(8, (int)body!["code"]!);
            Assert.Equal("database error", (string?)body["name"]);
            Assert.Contains($"postgres 127.0.0.1:{port}/{db} is unreachable", (string?)body["message"], StringComparison.Ordinal);
            var read = await admin.GetAsync("/services/known");
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.Equal("snapshot", read.Headers.GetValues(SourceHeader).Single());
            Assert.Equal("known", (string?)JsonNode.Parse(await read.Content.ReadAsStringAsync())!["name"]);
            var routes = await admin.GetAsync("/routes");
            Assert.Equal("snapshot", routes.Headers.GetValues(SourceHeader).Single());
            Assert.Equal(2, JsonNode.Parse(await routes.Content.ReadAsStringAsync())!["data"]!.AsArray().Count);
        }
        var left = Outage - (DateTime.UtcNow - outageStarted);
        if (left > TimeSpan.Zero) await Task.Delay(left); // the outage lasts as long as the issue says, under load

        relay.Cut(); // B stays cut off while A writes through the returned database
        await pg.RestartAsync();
        await Eventually.TrueAsync(async () => await ReachableAsync(adminA) == true, within: Bound);
        await Eventually.TrueAsync(async () => (await adminA.GetAsync("/routes")).Headers.GetValues(SourceHeader).Single() == "database", within: Bound);
        await CreateRouteAsync(adminA, "after", echo);
        Assert.Equal(HttpStatusCode.OK, (await proxyA.GetAsync("/after")).StatusCode);
        Assert.False(await ReachableAsync(adminB));
        Assert.Equal(HttpStatusCode.NotFound, (await proxyB.GetAsync("/after")).StatusCode);

        relay.Restore(); // B finds the database by itself and serves what A wrote meanwhile
        await Eventually.TrueAsync(async () => (await proxyB.GetAsync("/after")).StatusCode == HttpStatusCode.OK, within: Bound);
        Assert.True(await ReachableAsync(adminB));
        // the change listener may have re-read first; Admin reads say "database" once the monitor has resynced too
        await Eventually.TrueAsync(async () => (await adminB.GetAsync("/routes")).Headers.GetValues(SourceHeader).Single() == "database", within: Bound);
        var routesB = await adminB.GetAsync("/routes");
        Assert.Equal(3, JsonNode.Parse(await routesB.Content.ReadAsStringAsync())!["data"]!.AsArray().Count);
        var (created, _) = await SendAsync(adminB, HttpMethod.Post, "/services", new { name = "accepted", url = echo.BaseUri.ToString() });
        Assert.Equal(201, created);

        await stopLoad.CancelAsync();
        var results = await Task.WhenAll(load);
        Assert.Empty(results.SelectMany(r => r.Failures));
        Assert.All(results, r => Assert.True(r.Ok > 0));
    }

    [Fact]
    public async Task A_node_restarted_while_the_database_is_down_serves_its_persisted_snapshot_and_resyncs()
    {
        await using var pg = await PostgresServer.StartAsync();
        var db = (await pg.CreateDatabaseAsync()).Database;
        await using var echo = await EchoUpstream.StartAsync();
        using var dir = new TempDir();
        await using (var first = await GatewayProcess.StartInAsync(dir.Path, pg.ConfLines(db), admin: true, "--run-migrations"))
        {
            using var admin = new HttpClient { BaseAddress = first.AdminUri };
            await CreateRouteAsync(admin, "known", echo);
        }
        var snapshot = dir.File("config_snapshot.json");
        Assert.True(File.Exists(snapshot));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(snapshot)); // rows hold credentials
        await pg.StopAsync();

        await using var node = await GatewayProcess.StartInAsync(dir.Path, pg.ConfLines(db), admin: true, "--run-migrations");
        using var adminNode = new HttpClient { BaseAddress = node.AdminUri };
        using var proxy = new HttpClient { BaseAddress = node.ProxyUri };
        Assert.Contains($"postgres 127.0.0.1:{pg.Port}/{db} is unreachable", node.Output.ToString(), StringComparison.Ordinal);
        Assert.Contains("running on the persisted configuration snapshot of", node.Output.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await proxy.GetAsync("/known")).StatusCode);
        Assert.False(await ReachableAsync(adminNode));
        var routes = await adminNode.GetAsync("/routes");
        Assert.Equal("snapshot", routes.Headers.GetValues(SourceHeader).Single());
        Assert.Single(JsonNode.Parse(await routes.Content.ReadAsStringAsync())!["data"]!.AsArray());
        Assert.Equal(503, (await SendAsync(adminNode, HttpMethod.Delete, "/routes/known-route")).Status);

        await pg.RestartAsync();
        await Eventually.TrueAsync(async () => (await adminNode.GetAsync("/routes")).Headers.GetValues(SourceHeader).Single() == "database", within: Bound);
        Assert.True(await ReachableAsync(adminNode));
        await CreateRouteAsync(adminNode, "later", echo);
        Assert.Equal(HttpStatusCode.OK, (await proxy.GetAsync("/later")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await proxy.GetAsync("/known")).StatusCode);
    }

    [Fact]
    public async Task A_node_without_a_snapshot_does_not_start_while_the_database_is_unreachable()
    {
        using var dir = new TempDir();
        var conf = $"database = postgres\npg_host = 127.0.0.1\npg_port = {EchoUpstream.ClosedPort()}\npg_user = {PostgresServer.User}\npg_database = none\n";
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayProcess.StartInAsync(dir.Path, conf));
        Assert.Contains("is unreachable", failure.Message, StringComparison.Ordinal);
        Assert.Contains("no configuration snapshot to start from", failure.Message, StringComparison.Ordinal);
        Assert.Contains(dir.File("config_snapshot.json"), failure.Message, StringComparison.Ordinal);
    }

    private static async Task CreateRouteAsync(HttpClient admin, string name, EchoUpstream echo)
    {
        var (service, body) = await SendAsync(admin, HttpMethod.Post, "/services", new { name, url = echo.BaseUri.ToString() });
        Assert.True(service == 201, body?.ToJsonString());
        var (route, routeBody) = await SendAsync(admin, HttpMethod.Post, $"/services/{name}/routes", new { name = name + "-route", paths = new[] { "/" + name } });
        Assert.True(route == 201, routeBody?.ToJsonString());
    }

    private static Task<(int Status, JsonNode? Body)> SendAsync(HttpClient admin, HttpMethod method, string path, object? json = null) =>
        AdminCalls.SendAsync(admin, method, path, json);

    private static async Task<bool?> ReachableAsync(HttpClient admin)
    {
        var (status, body) = await SendAsync(admin, HttpMethod.Get, "/status");
        Assert.Equal(200, status);
        return (bool?)body!["database"]!["reachable"];
    }

    private sealed record LoadResult(int Ok, List<string> Failures);

    /// <summary>Proxies requests one after another until stopped (with <paramref name="apiKey"/> as key-auth's
    /// <c>apikey</c> header when given); every answer but 200 is a failure.</summary>
    private static async Task<LoadResult> LoadAsync(HttpClient proxy, string path, string? apiKey, CancellationToken stop)
    {
        var ok = 0;
        var failures = new List<string>();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, path);
                if (apiKey is not null) request.Headers.Add("apikey", apiKey);
                using var response = await proxy.SendAsync(request, CancellationToken.None);
                if (response.StatusCode == HttpStatusCode.OK) ok++;
                else failures.Add($"{DateTime.UtcNow:O} {path} {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
            catch (HttpRequestException e)
            {
                failures.Add($"{DateTime.UtcNow:O} {path} {e.Message}");
            }
        }
        return new LoadResult(ok, failures);
    }
}
