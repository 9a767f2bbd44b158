using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Tests.Proxy.Upstreams;

/// <summary>Target names resolve through the DNS cache (dns_hostsfile, then dns_resolver: a real DNS server on
/// loopback), and a changed answer moves traffic without a configuration change.</summary>
public sealed class UpstreamDnsTests
{
    private static async Task ServiceOverUpstream(UpstreamGateway gw, string upstream, string target)
    {
        await gw.CreateAsync("/upstreams", $$"""{"name":"{{upstream}}"}""");
        await gw.CreateAsync($"/upstreams/{upstream}/targets", $$"""{"target":"{{target}}"}""");
        await gw.CreateAsync("/services", $$"""{"name":"svc","host":"{{upstream}}"}""");
        await gw.CreateAsync("/services/svc/routes", """{"paths":["/"]}""");
    }

    [Fact]
    public Task A_changed_A_record_moves_traffic_to_the_new_address_without_a_config_change() => MovesWhenTheRecordChanges(1, null);

    // the record says an hour; dns_valid_ttl = 1 makes the cache ask again after a second
    [Fact]
    public Task Dns_valid_ttl_replaces_the_records_ttl() => MovesWhenTheRecordChanges(3600, TimeSpan.FromSeconds(1));

    private static async Task MovesWhenTheRecordChanges(uint ttl, TimeSpan? validTtl)
    {
        using var first = NamedResponder.Start(IPAddress.Loopback, 0, "first");
        using var second = NamedResponder.Start(IPAddress.Parse("127.0.0.2"), first.Port, "second");
        await using var gw = await UpstreamGateway.StartAsync(false, configure: o => o with { Dns = o.Dns with { ValidTtl = validTtl } });
        gw.Dns.SetA("moving.test", ttl, IPAddress.Loopback);
        await ServiceOverUpstream(gw, "backend.internal", $"moving.test:{first.Port}");
        var (status, body) = await gw.ProxyGetAsync("/");
        Assert.Equal(200, status);
        Assert.Equal("first", body);

        gw.Dns.SetA("moving.test", ttl, IPAddress.Parse("127.0.0.2"));
        // the answer's TTL ends, the cache asks again and the upstream's balancer is rebuilt; no Admin API write
        body = await UntilBodyIsNot(gw, "first");
        Assert.Equal("second", body);
        Assert.Equal("second", (await gw.ProxyGetAsync("/")).Body);
        Assert.True(gw.Dns.Queries("moving.test") >= 2);
        var health = (await gw.GetAsync("/upstreams/backend.internal/health")).Body!;
        Assert.Equal("127.0.0.2", health["data"]![0]!["data"]!["addresses"]![0]!["ip"]!.GetValue<string>());
    }

    /// <summary>Proxies GET / until the answer changes from <paramref name="body"/> (a bounded wait for a background
    /// refresh, not a timing assertion).</summary>
    private static async Task<string> UntilBodyIsNot(UpstreamGateway gw, string body)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var current = body;
        while (current == body && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            current = (await gw.ProxyGetAsync("/")).Body;
        }
        return current;
    }

    [Fact]
    public async Task A_name_that_starts_resolving_gets_traffic_after_dns_not_found_ttl()
    {
        using var server = NamedResponder.Start(IPAddress.Loopback, 0, "late");
        await using var gw = await UpstreamGateway.StartAsync(false,
            configure: o => o with { Dns = o.Dns with { NotFoundTtl = TimeSpan.FromSeconds(1) } });
        await ServiceOverUpstream(gw, "backend.internal", $"late.test:{server.Port}");
        var (status, body) = await gw.ProxyGetAsync("/");
        Assert.Equal(503, status);

        gw.Dns.SetA("late.test", 60, IPAddress.Loopback);
        Assert.Equal("late", await UntilBodyIsNot(gw, body));
    }

    [Fact]
    public async Task Dns_order_decides_which_record_types_are_asked()
    {
        using var server = NamedResponder.Start(IPAddress.Loopback, 0, "a-only");
        await using var gw = await UpstreamGateway.StartAsync(false, configure: o => o with { Dns = o.Dns with { Order = ["A"] } });
        gw.Dns.SetA("plain.test", 60, IPAddress.Loopback);
        await ServiceOverUpstream(gw, "backend.internal", $"plain.test:{server.Port}");
        Assert.Equal((200, "a-only"), await gw.ProxyGetAsync("/"));
        Assert.Equal(1, gw.Dns.Queries("plain.test", 1));
        Assert.Equal(0, gw.Dns.Queries("plain.test", 33)); // the default order (LAST,SRV,A,CNAME) asks SRV first
    }

    [Fact]
    public async Task A_hosts_file_entry_wins_over_the_dns_server()
    {
        using var fromHosts = NamedResponder.Start(IPAddress.Loopback, 0, "hosts");
        using var fromDns = NamedResponder.Start(IPAddress.Parse("127.0.0.2"), fromHosts.Port, "dns");
        await using var gw = await UpstreamGateway.StartAsync(false, new Dictionary<string, IPAddress> { ["both.test"] = IPAddress.Loopback });
        gw.Dns.SetA("both.test", 60, IPAddress.Parse("127.0.0.2"));
        await ServiceOverUpstream(gw, "backend.internal", $"both.test:{fromHosts.Port}");
        for (var i = 0; i < 3; i++) Assert.Equal((200, "hosts"), await gw.ProxyGetAsync("/"));
        Assert.Equal(0, gw.Dns.Queries("both.test", 1));
    }

    [Fact]
    public async Task A_name_that_does_not_exist_is_DNS_ERROR_and_its_only_target_gives_503()
    {
        await using var gw = await UpstreamGateway.StartAsync(false);
        await ServiceOverUpstream(gw, "backend.internal", "missing.test:80");
        var health = (await gw.GetAsync("/upstreams/backend.internal/health")).Body!;
        var target = health["data"]![0]!;
        Assert.Equal("DNS_ERROR", target["health"]!.GetValue<string>());
        Assert.Equal("dns server error: 3 name error", target["data"]!["dns"]!.GetValue<string>());
        Assert.True(gw.Dns.Queries("missing.test") >= 1); // asked the configured dns_resolver
        Assert.True(gw.Dns.Queries("missing.test", 33) >= 1); // Kong's default dns_order asks SRV first
        var (status, body) = await gw.ProxyGetAsync("/");
        Assert.Equal(503, status);
        Assert.Contains("failure to get a peer from the ring-balancer", body);
    }

    [Fact]
    public async Task An_SRV_record_gives_the_peers_port()
    {
        using var server = NamedResponder.Start(IPAddress.Loopback, 0, "srv");
        await using var gw = await UpstreamGateway.StartAsync(false, new Dictionary<string, IPAddress> { ["node.test"] = IPAddress.Loopback });
        gw.Dns.SetSrv("service.test", 60, 10, 5, server.Port, "node.test");
        await ServiceOverUpstream(gw, "backend.internal", "service.test:1");
        Assert.Equal((200, "srv"), await gw.ProxyGetAsync("/"));
        var target = (await gw.GetAsync("/upstreams/backend.internal/health")).Body!["data"]![0]!;
        Assert.Equal("SRV", target["data"]!["dns"]!.GetValue<string>());
        Assert.Equal(server.Port, target["data"]!["addresses"]![0]!["port"]!.GetValue<int>());
    }

    /// <summary>An HTTP/1.1 server on one address that answers every request with its name and closes.</summary>
    private sealed class NamedResponder : IDisposable
    {
        private readonly TcpListener _listener;

        private NamedResponder(TcpListener listener, string name)
        {
            _listener = listener;
            Port = ((IPEndPoint)listener.LocalEndpoint).Port;
            _ = Task.Run(async () =>
            {
                var answer = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {name.Length}\r\nConnection: close\r\n\r\n{name}");
                while (true)
                {
                    Socket socket;
                    try { socket = await _listener.AcceptSocketAsync(); }
                    catch (Exception) { return; }
                    _ = Task.Run(async () =>
                    {
                        using (socket)
                        {
                            var buffer = new byte[8192];
                            var head = new StringBuilder();
                            try
                            {
                                while (!head.ToString().Contains("\r\n\r\n"))
                                {
                                    var n = await socket.ReceiveAsync(buffer);
                                    if (n == 0) return;
                                    head.Append(Encoding.ASCII.GetString(buffer, 0, n));
                                }
                                await socket.SendAsync(answer);
                                socket.Shutdown(SocketShutdown.Both);
                            }
                            catch (SocketException) { }
                        }
                    });
                }
            });
        }

        public int Port { get; }

        public static NamedResponder Start(IPAddress address, int port, string name)
        {
            var listener = new TcpListener(address, port);
            listener.Start();
            return new NamedResponder(listener, name);
        }

        public void Dispose() => _listener.Stop();
    }
}
