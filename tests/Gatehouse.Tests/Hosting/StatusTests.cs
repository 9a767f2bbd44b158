using Gatehouse.Proxy;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Store;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Hosting;

/// <summary>One <c>GET /status</c> on admin_listen and status_listen (Kong's shape): counters that follow real traffic,
/// database reachability from a real query, Kong's DB-less shape, honest .NET memory names with Kong's unit/scale.</summary>
public sealed class StatusTests
{
    /// <summary>A started host of <paramref name="options"/> with proxy, Admin API and status listeners on free
    /// loopback ports (also the prometheus tests').</summary>
    internal static async Task<GatewayHost> StartAsync(GatehouseOptions options)
    {
        var host = GatewayHost.Create(options with
        {
            ProxyListen = [ListenAddress.Parse("127.0.0.1:0")],
            AdminListen = [ListenAddress.Parse("127.0.0.1:0")],
            StatusListen = [ListenAddress.Parse("127.0.0.1:0")],
            ProxyAccessLog = null,
            LogLevel = "error",
        }, new GatewayHostOptions { ConfigureLogging = l => l.ClearProviders(), ShutdownTimeout = TimeSpan.FromSeconds(2) });
        await host.StartAsync();
        return host;
    }

    private static async Task<JsonObject> StatusAsync(HttpClient client, Uri listener, string query = "")
    {
        using var response = await client.GetAsync(new Uri(listener, "/status" + query));
        Assert.Equal(200, (int)response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    [Fact]
    public async Task Counters_follow_requests_and_connections_on_both_listeners()
    {
        using var dir = new TempDir();
        await using var upstream = await EchoUpstream.StartAsync();
        await using var host = await StartAsync(new GatehouseOptions { Prefix = dir.Path, SqlitePath = dir.File("gh.db") });
        var admin = host.Addresses(ListenerKind.Admin).Single();
        var status = host.Addresses(ListenerKind.Status).Single();
        var proxy = host.Addresses(ListenerKind.Proxy).Single();
        using var adminClient = new HttpClient { BaseAddress = admin };
        (await adminClient.PostAsJsonAsync("/services", new { name = "echo", url = upstream.BaseUri.ToString() })).EnsureSuccessStatusCode();
        (await adminClient.PostAsJsonAsync("/services/echo/routes", new { name = "r", paths = new[] { "/" } })).EnsureSuccessStatusCode();

        // N proxied requests on one keep-alive connection, which then stays open and idle
        const int n = 7;
        using var proxyClient = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) }) { BaseAddress = proxy };
        for (var i = 0; i < n; i++)
            using (var r = await proxyClient.GetAsync($"/hello/{i}")) Assert.Equal(200, (int)r.StatusCode);
        Assert.Equal(n, upstream.RequestCount);

        // a second connection that has sent part of a request header
        using var partial = new TcpClient();
        await partial.ConnectAsync(proxy.Host, proxy.Port);
        await partial.GetStream().WriteAsync(Encoding.ASCII.GetBytes("GET /slow HTTP/1.1\r\nHost: x\r\n"));

        using var statusClient = new HttpClient();
        var body = await StatusAsync(statusClient, status);
        for (var i = 0; i < 500 && (long)body["server"]!["connections_reading"]! < 1; i++)
        {
            await Task.Delay(10); // until the gateway has read the partial header's bytes
            body = await StatusAsync(statusClient, status);
        }
        foreach (var answer in new[] { body, await StatusAsync(statusClient, admin) })
        {
            var server = answer["server"]!;
            Assert.True((long)server["total_requests"]! >= n + 2, server.ToJsonString()); // n proxied, 2 admin writes
            Assert.True((long)server["connections_accepted"]! >= 4, server.ToJsonString()); // admin, proxy, partial, status
            Assert.Equal((long)server["connections_accepted"]!, (long)server["connections_handled"]!);
            // open now: the idle keep-alive proxy connection, the partial one and this status request's own
            Assert.True((long)server["connections_active"]! >= 3, server.ToJsonString());
            Assert.True((long)server["connections_reading"]! >= 1, server.ToJsonString());
            Assert.True((long)server["connections_writing"]! >= 1, server.ToJsonString()); // this request
            Assert.True((long)server["connections_waiting"]! >= 1, server.ToJsonString()); // the idle keep-alive one
            Assert.Equal((long)server["connections_active"]! - (long)server["connections_reading"]! - (long)server["connections_writing"]!,
                (long)server["connections_waiting"]!);
            Assert.True((bool)answer["database"]!["reachable"]!);
        }

        // the partial connection finishes its request: it is no longer reading, and the total grew
        var before = (long)body["server"]!["total_requests"]!;
        await partial.GetStream().WriteAsync(Encoding.ASCII.GetBytes("\r\n"));
        var buffer = new byte[512];
        Assert.True(await partial.GetStream().ReadAsync(buffer) > 0);
        Assert.StartsWith("HTTP/1.1 200", Encoding.ASCII.GetString(buffer));
        var after = await StatusAsync(statusClient, status);
        Assert.True((long)after["server"]!["total_requests"]! >= before + 2);
    }

    [Fact]
    public async Task Database_reachable_comes_from_a_real_query_on_both_listeners()
    {
        using var dir = new TempDir();
        var db = dir.File("gh.db");
        await using var host = await StartAsync(new GatehouseOptions { Prefix = dir.Path, SqlitePath = db });
        using var client = new HttpClient();
        var admin = host.Addresses(ListenerKind.Admin).Single();
        var status = host.Addresses(ListenerKind.Status).Single();
        Assert.True((bool)(await StatusAsync(client, status))["database"]!["reachable"]!);
        Assert.Null((await StatusAsync(client, status))["configuration_hash"]);

        // the file is no longer a database (the store opens it for every query)
        await File.WriteAllBytesAsync(db, Encoding.ASCII.GetBytes(new string('x', 8192)));
        Assert.False((bool)(await StatusAsync(client, status))["database"]!["reachable"]!);
        Assert.False((bool)(await StatusAsync(client, admin))["database"]!["reachable"]!);
    }

    [Fact]
    public async Task DbLess_reports_the_configuration_hash_and_no_database_as_Kong()
    {
        using var dir = new TempDir();
        var yml = dir.File("kong.yml");
        await File.WriteAllTextAsync(yml, "_format_version: \"3.0\"\nservices:\n- name: s\n  url: http://127.0.0.1:9\n");
        await using var host = await StartAsync(new GatehouseOptions { Prefix = dir.Path, Database = DatabaseKind.Off, DeclarativeConfig = yml });
        using var client = new HttpClient();
        foreach (var listener in new[] { host.Addresses(ListenerKind.Status).Single(), host.Addresses(ListenerKind.Admin).Single() })
        {
            var body = await StatusAsync(client, listener);
            Assert.Null(body["database"]);
            var hash = (string)body["configuration_hash"]!;
            Assert.Matches("^[0-9a-f]{32}$", hash);
            Assert.NotEqual(new string('0', 32), hash);
        }
    }

    [Fact]
    public async Task Memory_has_dotnet_names_and_follows_unit_and_scale()
    {
        using var dir = new TempDir();
        await using var host = await StartAsync(new GatehouseOptions { Prefix = dir.Path, Database = DatabaseKind.Off });
        using var client = new HttpClient();
        var status = host.Addresses(ListenerKind.Status).Single();
        var body = await StatusAsync(client, status);
        Assert.DoesNotContain("lua", body.ToJsonString(), StringComparison.OrdinalIgnoreCase);
        var process = body["memory"]!["process"]!;
        Assert.Equal(Environment.ProcessId, (int)process["pid"]!);
        foreach (var name in new[] { "managed_heap", "working_set" })
            Assert.Matches(@"^\d+\.\d{2} MiB$", (string)process[name]!);
        // the GC's committed size is known only after a collection (0 before one): not reported rather than a 0
        Assert.Equal(["pid", "managed_heap", "working_set"], process.AsObject().Select(p => p.Key));
        var workingSetMiB = double.Parse(((string)process["working_set"]!).Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(workingSetMiB > 1);

        Assert.Matches(@"^\d+\.\d{3} KiB$", (string)(await StatusAsync(client, status, "?unit=K&scale=3"))["memory"]!["process"]!["working_set"]!);
        Assert.Matches(@"^\d+$", (string)(await StatusAsync(client, status, "?unit=b"))["memory"]!["process"]!["managed_heap"]!);

        Assert.Empty(body["memory"]!["wasm_filters"]!.AsObject()); // wasm off

        using var bad = await client.GetAsync(new Uri(status, "/status?unit=x"));
        Assert.Equal(400, (int)bad.StatusCode);
        Assert.Equal("""{"message":"invalid unit 'x' (expected 'k/K', 'm/M', or 'g/G')"}""", await bad.Content.ReadAsStringAsync());
        using var post = await client.PostAsync(new Uri(status, "/status"), null);
        Assert.Equal(405, (int)post.StatusCode);
    }

    [Fact]
    public async Task Memory_reports_the_wasm_filters_linear_memory()
    {
        await using var gw = await Gatehouse.Tests.Wasm.WasmGateway.StartAsync(dbless: false,
            configure: o => o with { StatusListen = [ListenAddress.Parse("127.0.0.1:0")] });
        using var client = new HttpClient();
        var status = gw.Host.Addresses(ListenerKind.Status).Single();
        Assert.Empty((await StatusAsync(client, status))["memory"]!["wasm_filters"]!.AsObject());

        var (_, routeId) = await gw.ServiceAndRouteAsync("svc", 9);
        Assert.Equal(201, (await gw.PostAsync($"/routes/{routeId}/filter-chains", """{"filters":[{"name":"add-headers","config":{}}]}""")).Status);
        var filter = (await StatusAsync(client, status, "?unit=b"))["memory"]!["wasm_filters"]!["add-headers"]!;
        Assert.True((int)filter["vms"]! >= 1);
        // at least one 64 KiB page per VM
        Assert.True(long.Parse((string)filter["linear_memory"]!) >= 65536L * (int)filter["vms"]!, filter.ToJsonString());
    }
}
