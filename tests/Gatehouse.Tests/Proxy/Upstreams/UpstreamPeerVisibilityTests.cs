using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Wasm;

namespace Gatehouse.Tests.Proxy.Upstreams;

/// <summary>The peer that served a balanced request is visible: to Proxy-Wasm filters (<c>upstream.address</c>,
/// <c>upstream.port</c>, <c>ngx.upstream_addr</c>, <c>ngx.upstream_host</c>, read by the real C <c>phases</c> filter),
/// in file-log's entry (Kong's <c>tries</c> and <c>upstream_uri</c>) and in the access log (<c>upstream_addr</c>).</summary>
public sealed class UpstreamPeerVisibilityTests : IAsyncLifetime
{
    private EchoUpstream _echo = null!;

    public async Task InitializeAsync() => _echo = await EchoUpstream.StartAsync();

    public async Task DisposeAsync() => await _echo.DisposeAsync();

    /// <summary>An upstream over a target that refuses connections and the echo server (by name), with one retry.</summary>
    private async Task<int> UpstreamWithARefusingTarget(UpstreamGateway gw)
    {
        var closed = EchoUpstream.ClosedPort();
        await gw.CreateAsync("/upstreams", """{"name":"backend.internal"}""");
        await gw.CreateAsync("/upstreams/backend.internal/targets", $$"""{"target":"127.0.0.1:{{closed}}"}""");
        await gw.CreateAsync("/upstreams/backend.internal/targets", $$"""{"target":"echo.test:{{_echo.Port}}"}""");
        await gw.CreateAsync("/services", """{"name":"svc","host":"backend.internal","retries":1}""");
        await gw.CreateAsync("/services/svc/routes", """{"name":"r","paths":["/"]}""");
        return closed;
    }

    private static Task<UpstreamGateway> Start(Func<Gatehouse.Config.GatehouseOptions, Gatehouse.Config.GatehouseOptions>? configure = null) =>
        UpstreamGateway.StartAsync(false, new Dictionary<string, IPAddress> { ["echo.test"] = IPAddress.Loopback }, configure: configure);

    [Fact]
    public async Task Filters_read_the_chosen_peer_and_the_host_sent()
    {
        var filters = WasmPaths.CopyFilters(Path.Combine(WasmPaths.Repo, "filters", "test"), "phases");
        // ngx_wasm_module's encoding: the address without its port, the port as text
        File.WriteAllText(Path.Combine(filters, "phases.meta.json"), """{"property_encoding":"ngx_wasm_module"}""");
        try
        {
            await using var gw = await Start(o => o with { Wasm = true, WasmFiltersPath = filters });
            var closed = await UpstreamWithARefusingTarget(gw);
            var names = new[] { "upstream.address", "upstream.port", "ngx.upstream_addr", "ngx.upstream_host" };
            var config = new JsonObject
            {
                ["request_headers"] = new JsonArray(new JsonObject { ["action"] = "get_property", ["name"] = "upstream.address" }),
                ["response_headers"] = new JsonArray([.. names.Select(n => (JsonNode)new JsonObject { ["action"] = "get_property", ["name"] = n })]),
            };
            var chain = new JsonObject { ["filters"] = new JsonArray(new JsonObject { ["name"] = "phases", ["config"] = config.ToJsonString() }) };
            var (status, body) = await gw.PostAsync("/services/svc/filter-chains", chain.ToJsonString());
            Assert.True(status == 201, body?.ToJsonString());

            var seen = new HashSet<string>();
            for (var i = 0; i < 2; i++)
            {
                using var response = await gw.Proxy.GetAsync("/p");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                string Reported(string name) => response.Headers.GetValues("x-property-" + name).Single();
                // the peer that served (the echo server, reached directly or after the refused try)
                Assert.Equal("127.0.0.1", Reported("upstream.address"));
                Assert.Equal(_echo.Port.ToString(), Reported("upstream.port"));
                Assert.Equal($"echo.test:{_echo.Port}", Reported("ngx.upstream_host"));
                seen.Add(Reported("ngx.upstream_addr"));
            }
            // nginx's $upstream_addr lists every try. Round-robin from a random start: of two requests at least one
            // begins on the refusing target and is retried on the echo server
            Assert.Contains($"127.0.0.1:{closed}, 127.0.0.1:{_echo.Port}", seen);
            Assert.Subset(new HashSet<string> { $"127.0.0.1:{_echo.Port}", $"127.0.0.1:{closed}, 127.0.0.1:{_echo.Port}" }, seen);
        }
        finally
        {
            Directory.Delete(filters, true);
        }
    }

    [Fact]
    public async Task Filters_in_Envoys_encoding_read_the_peer_as_ip_port_and_an_integer_port()
    {
        var filters = WasmPaths.CopyFilters(Path.Combine(WasmPaths.Repo, "filters", "test"), "phases");
        try
        {
            await using var gw = await Start(o => o with { Wasm = true, WasmFiltersPath = filters });
            await UpstreamWithARefusingTarget(gw);
            var config = new JsonObject
            {
                ["response_headers"] = new JsonArray(
                    new JsonObject { ["action"] = "get_property", ["name"] = "upstream.address" },
                    new JsonObject { ["action"] = "get_property", ["name"] = "upstream.port" }),
            };
            var chain = new JsonObject { ["filters"] = new JsonArray(new JsonObject { ["name"] = "phases", ["config"] = config.ToJsonString() }) };
            var (status, body) = await gw.PostAsync("/services/svc/filter-chains", chain.ToJsonString());
            Assert.True(status == 201, body?.ToJsonString());

            using var response = await gw.Proxy.GetAsync("/p");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            string Reported(string name) => response.Headers.GetValues("x-property-" + name).Single();
            Assert.Equal($"127.0.0.1:{_echo.Port}", Reported("upstream.address"));
            var port = Reported("upstream.port");
            Assert.StartsWith("hex:", port);
            Assert.Equal(_echo.Port, System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(Convert.FromHexString(port[4..])));
        }
        finally
        {
            Directory.Delete(filters, true);
        }
    }

    [Fact]
    public async Task File_log_records_Kongs_tries_and_upstream_uri_and_the_access_log_the_peers()
    {
        var accessLog = Path.Combine(Path.GetTempPath(), $"gatehouse-access-{Guid.NewGuid():N}.log");
        try
        {
            await using var gw = await Start(o => o with { ProxyAccessLog = accessLog });
            var closed = await UpstreamWithARefusingTarget(gw);
            var path = Path.Combine(gw.Prefix, "requests.log");
            await gw.CreateAsync("/services/svc/plugins", new JsonObject { ["name"] = "file-log", ["config"] = new JsonObject { ["path"] = path } }.ToJsonString());
            for (var i = 0; i < 2; i++) Assert.Equal(200, (await gw.ProxyGetAsync($"/q/{i}?a=1&b=2")).Status);

            await Eventually.TrueAsync(() => File.Exists(path) && File.ReadAllLines(path).Length == 2);
            var entries = File.ReadAllLines(path).Select(l => JsonNode.Parse(l)!).ToArray();
            Assert.Equal(["/q/0?a=1&b=2", "/q/1?a=1&b=2"], entries.Select(e => e["upstream_uri"]!.GetValue<string>()).Order());
            // round-robin from a random start: of two requests at least one begins on the refusing target
            Assert.Contains(entries, e => e["tries"]!.AsArray().Count == 2);
            foreach (var tries in entries.Select(e => e["tries"]!.AsArray()))
            {
                var last = tries[^1]!;
                Assert.Equal("127.0.0.1", last["ip"]!.GetValue<string>());
                Assert.Equal(_echo.Port, last["port"]!.GetValue<int>());
                Assert.Null(last["state"]);
                if (tries.Count == 1) continue;
                Assert.Equal(2, tries.Count);
                Assert.Equal("127.0.0.1", tries[0]!["ip"]!.GetValue<string>());
                Assert.Equal(closed, tries[0]!["port"]!.GetValue<int>());
                Assert.Equal("failed", tries[0]!["state"]!.GetValue<string>());
                Assert.Equal(502, tries[0]!["code"]!.GetValue<int>());
                Assert.True(last["balancer_start"]!.GetValue<long>() >= tries[0]!["balancer_start"]!.GetValue<long>());
            }

            await Eventually.TrueAsync(() => File.Exists(accessLog) && File.ReadAllLines(accessLog).Length == 2);
            var addrs = File.ReadAllLines(accessLog).Select(l => JsonNode.Parse(l)!["upstream_addr"]!.GetValue<string>()).ToArray();
            // the same tries as file-log's entries, in nginx's $upstream_addr form
            var expected = entries.Select(e => string.Join(", ", e["tries"]!.AsArray().Select(t => $"{t!["ip"]}:{t["port"]}"))).Order();
            Assert.Equal(expected, addrs.Order());
        }
        finally
        {
            File.Delete(accessLog);
        }
    }
}
