using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Reliability;

/// <summary>
/// <c>kill -9</c> during Admin writes, bounded: the real executable on a SQLite store in a temporary prefix takes
/// creates, updates and deletes from several concurrent writers and is killed (SIGKILL) at a random moment, then
/// restarted on the same prefix. Each round checks that the store opens, that every write acknowledged with a 2xx
/// before the kill is there (and every acknowledged delete is gone), that no entity is half-written (every route's
/// service exists), and that the gateway proxies through the surviving routes. Rounds: <c>GATEHOUSE_KILL_ROUNDS</c>
/// (default 3). (POST /config exists only without a database, so it is not part of a SQLite run.)
/// </summary>
public sealed class KillDuringAdminWriteTests(ITestOutputHelper output)
{
    private sealed class Acked
    {
        public ConcurrentDictionary<string, string> Services { get; } = new(); // name → id
        public ConcurrentDictionary<string, (string Id, string Service, string Path)> Routes { get; } = new(); // name → …
        public ConcurrentDictionary<string, int> Retries { get; } = new(); // service name → last acknowledged value
        public ConcurrentDictionary<string, int> RetriesTried { get; } = new(); // service name → a later value in flight
        public ConcurrentDictionary<string, string> DeletedRoutes { get; } = new(); // name → id
        public ConcurrentDictionary<string, bool> DeletesInFlight { get; } = new(); // route names whose DELETE was sent
        public int Writes;
        public ConcurrentQueue<string> Unexpected { get; } = new(); // a non-2xx answer before the kill
    }

    [Fact]
    public async Task Every_acknowledged_write_survives_a_kill_9()
    {
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("GATEHOUSE_KILL_ROUNDS"), out var r) && r > 0 ? r : 3;
        await using var upstream = await EchoUpstream.StartAsync();
        var dir = Directory.CreateTempSubdirectory("gatehouse-kill9-").FullName;
        var random = new Random();
        var acked = new Acked();
        try
        {
            for (var round = 0; round < rounds; round++)
            {
                await using (var gateway = await GatewayProcess.StartSqliteAsync(dir))
                {
                    if (round > 0) await VerifyAsync(gateway, acked, upstream, round);
                    using var stop = new CancellationTokenSource();
                    var writers = Enumerable.Range(0, 4).Select(w => Task.Run(() => WriteAsync(gateway, acked, upstream, round, w, stop.Token))).ToArray();
                    await Task.Delay(random.Next(300, 2500));
                    gateway.Kill9();
                    await stop.CancelAsync();
                    await Task.WhenAll(writers);
                    Assert.True(acked.Unexpected.IsEmpty, $"round {round}: Admin writes answered otherwise than 2xx: {string.Join("; ", acked.Unexpected)}");
                }
            }
            await using var last = await GatewayProcess.StartSqliteAsync(dir);
            await VerifyAsync(last, acked, upstream, rounds);
            output.WriteLine($"kill -9: {rounds} kills, {acked.Writes} writes acknowledged ({acked.Services.Count} services, {acked.Routes.Count} routes " +
                $"created, {acked.Retries.Count} services updated, {acked.DeletedRoutes.Count} routes deleted), all found after each restart");
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>One writer: create a service, a route on it, update the service, sometimes delete the route; every
    /// 2xx is recorded as acknowledged. Ends when the process dies (the request fails) or the round stops.</summary>
    private static async Task WriteAsync(GatewayProcess gateway, Acked acked, EchoUpstream upstream, int round, int writer, CancellationToken stop)
    {
        using var admin = new HttpClient { BaseAddress = gateway.AdminUri!, Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var name = $"s{round}-{writer}-{i}";
                var service = await admin.PostAsJsonAsync("/services", new { name, url = $"http://127.0.0.1:{upstream.Port}/" }, stop);
                if (!service.IsSuccessStatusCode) { await Unexpected(acked, "create service", service); return; }
                acked.Services[name] = (await service.Content.ReadFromJsonAsync<JsonObject>(stop))!["id"]!.ToString();
                Interlocked.Increment(ref acked.Writes);

                var routeName = "r" + name[1..];
                var path = "/" + routeName;
                var route = await admin.PostAsJsonAsync($"/services/{name}/routes", new { name = routeName, paths = new[] { path } }, stop);
                if (!route.IsSuccessStatusCode) { await Unexpected(acked, "create route", route); return; }
                acked.Routes[routeName] = ((await route.Content.ReadFromJsonAsync<JsonObject>(stop))!["id"]!.ToString(), name, path);
                Interlocked.Increment(ref acked.Writes);

                acked.RetriesTried[name] = i + 1;
                var patch = await admin.PatchAsJsonAsync($"/services/{name}", new { retries = i + 1 }, stop);
                if (!patch.IsSuccessStatusCode) { await Unexpected(acked, "update service", patch); return; }
                acked.Retries[name] = i + 1;
                Interlocked.Increment(ref acked.Writes);

                if (i % 3 == 2)
                {
                    acked.DeletesInFlight[routeName] = true;
                    var delete = await admin.DeleteAsync($"/routes/{routeName}", stop);
                    if (delete.StatusCode != HttpStatusCode.NoContent) { await Unexpected(acked, "delete route", delete); return; }
                    acked.Routes.TryRemove(routeName, out var gone);
                    acked.DeletedRoutes[routeName] = gone.Id;
                    acked.DeletesInFlight.TryRemove(routeName, out _);
                    Interlocked.Increment(ref acked.Writes);
                }
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException) { } // the kill
    }

    private static async Task Unexpected(Acked acked, string what, HttpResponseMessage response)
    {
        string body;
        try { body = await response.Content.ReadAsStringAsync(); }
        catch (Exception e) when (e is HttpRequestException or IOException) { return; } // cut by the kill
        acked.Unexpected.Enqueue($"{what}: {(int)response.StatusCode} {body}");
    }

    private async Task VerifyAsync(GatewayProcess gateway, Acked acked, EchoUpstream upstream, int round)
    {
        using var admin = new HttpClient { BaseAddress = gateway.AdminUri!, Timeout = TimeSpan.FromSeconds(30) };
        var services = await ListAsync(admin, "/services");
        var routes = await ListAsync(admin, "/routes");
        var serviceIds = services.Select(s => s["id"]!.ToString()).ToHashSet();
        foreach (var (name, id) in acked.Services)
        {
            var found = services.SingleOrDefault(s => s["name"]?.ToString() == name);
            Assert.True(found is not null, $"round {round}: acknowledged service {name} is missing");
            Assert.Equal(id, found!["id"]!.ToString());
            if (acked.Retries.TryGetValue(name, out var retries))
            {
                // the acknowledged value, or a later update that was in flight at the kill
                var value = found["retries"]!.GetValue<int>();
                Assert.True(value == retries || value == acked.RetriesTried[name], $"round {round}: service {name} has retries {value}, acknowledged {retries}");
            }
        }
        foreach (var (name, (id, service, _)) in acked.Routes)
        {
            var found = routes.SingleOrDefault(x => x["name"]?.ToString() == name);
            // a DELETE sent but not answered before the kill may or may not have been committed
            if (found is null && acked.DeletesInFlight.TryRemove(name, out _))
            {
                acked.Routes.TryRemove(name, out _);
                acked.DeletedRoutes[name] = id;
                continue;
            }
            Assert.True(found is not null, $"round {round}: acknowledged route {name} is missing");
            Assert.Equal(id, found!["id"]!.ToString());
            Assert.Equal(acked.Services[service], found["service"]!["id"]!.ToString());
        }
        foreach (var (name, _) in acked.DeletedRoutes)
            Assert.DoesNotContain(routes, x => x["name"]?.ToString() == name);
        acked.DeletesInFlight.Clear(); // the rest were not committed: their routes are still there and acknowledged
        // nothing half-written: every route (acknowledged or not) points at a service that exists
        foreach (var route in routes)
            Assert.True(route["service"]?["id"] is { } sid && serviceIds.Contains(sid.ToString()), $"round {round}: route {route["name"]} has no service");

        // the gateway proxies through what survived
        using var proxy = new HttpClient { BaseAddress = gateway.ProxyUri, Timeout = TimeSpan.FromSeconds(30) };
        foreach (var (_, (_, _, path)) in acked.Routes.Take(5))
        {
            using var response = await proxy.GetAsync(path + "/x");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    private static async Task<List<JsonObject>> ListAsync(HttpClient admin, string path)
    {
        var all = new List<JsonObject>();
        string? next = path + "?size=1000";
        while (next is not null)
        {
            var page = (await admin.GetFromJsonAsync<JsonObject>(next))!;
            all.AddRange(page["data"]!.AsArray().Select(x => x!.AsObject()));
            next = page["next"]?.ToString();
        }
        return all;
    }
}
