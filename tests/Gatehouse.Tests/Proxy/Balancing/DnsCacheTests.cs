using System.Net;
using Gatehouse.Proxy.Balancing.Dns;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Plugins;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Tests.Proxy.Balancing;

public sealed class DnsCacheTests : IDisposable
{
    private static readonly IPAddress First = IPAddress.Parse("10.0.0.1");
    private static readonly IPAddress Second = IPAddress.Parse("10.0.0.2");

    private readonly TinyDnsServer _server = new();
    private readonly ManualTime _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly List<DnsCache> _caches = [];

    public void Dispose()
    {
        foreach (var cache in _caches) cache.Dispose();
        _server.Dispose();
    }

    private DnsCache Cache(Func<DnsSettings, DnsSettings>? change = null)
    {
        // a long query timeout: a held answer must not be retried while the test holds it
        var settings = DnsSettings.Default with
        {
            Resolvers = [_server.EndPoint], HostsFile = null, Order = [DnsRecordType.A],
            QueryTimeout = TimeSpan.FromSeconds(30), Attempts = 1,
        };
        var cache = new DnsCache(change?.Invoke(settings) ?? settings, NullLogger<DnsCache>.Instance, _time);
        _caches.Add(cache);
        return cache;
    }

    [Fact]
    public async Task An_answer_is_cached_for_its_ttl_and_requeried_when_it_ends()
    {
        _server.SetA("svc.test", 30, First);
        var cache = Cache();

        var result = await cache.ResolveAsync("svc.test");
        Assert.Equal(DnsOutcome.Resolved, result.Outcome);
        Assert.Equal([First], result.Addresses.Select(a => a.Address));
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.False((await cache.ResolveAsync("svc.test")).Stale);
        Assert.Equal(1, _server.Queries("svc.test"));

        _server.SetA("svc.test", 30, Second);
        _time.Advance(TimeSpan.FromSeconds(2)); // the TTL ends: the name is in use, so it is refreshed in the background
        await Eventually.TrueAsync(() => cache.TryGetCached("svc.test")?.Addresses[0].Address.Equals(Second) == true);
        Assert.Equal(2, _server.Queries("svc.test"));
    }

    [Fact]
    public async Task Dns_valid_ttl_replaces_the_records_ttl()
    {
        _server.SetA("svc.test", 3600, First);
        var cache = Cache(s => s with { ValidTtl = TimeSpan.FromSeconds(5) });

        await cache.ResolveAsync("svc.test");
        _time.Advance(TimeSpan.FromSeconds(6));
        await Eventually.TrueAsync(() => _server.Queries("svc.test") == 2);
    }

    [Fact]
    public async Task The_stale_answer_is_served_at_once_while_the_refresh_waits_for_the_server()
    {
        _server.SetA("svc.test", 10, First);
        var cache = Cache();
        DnsResult? changed = null;
        cache.Changed += r => Volatile.Write(ref changed, r);
        await cache.ResolveAsync("svc.test");

        _server.Hold();
        _server.SetA("svc.test", 10, Second);
        _time.Advance(TimeSpan.FromSeconds(11));
        await Eventually.TrueAsync(() => _server.Queries("svc.test") == 2); // the refresh is at the server, unanswered

        var during = cache.ResolveAsync("svc.test");
        Assert.True(during.IsCompletedSuccessfully, "a caller waited for DNS although a stale answer was cached");
        var stale = await during;
        Assert.True(stale.Stale);
        Assert.Equal(First, stale.Addresses[0].Address);
        Assert.Equal(2, _server.Queries("svc.test")); // the stale read did not start a second query

        _server.Release();
        await Eventually.TrueAsync(() => cache.TryGetCached("svc.test") is { Stale: false } r && r.Addresses[0].Address.Equals(Second));
        // Changed is raised on the lookup's thread just after the answer is stored: wait for it, do not race it
        await Eventually.TrueAsync(() => Volatile.Read(ref changed) is not null);
        Assert.Equal(Second, changed?.Addresses[0].Address);
    }

    [Fact]
    public async Task A_name_error_is_a_result_cached_for_dns_not_found_ttl()
    {
        var cache = Cache();

        var result = await cache.ResolveAsync("missing.test");
        Assert.Equal(DnsOutcome.NotFound, result.Outcome);
        Assert.Empty(result.Addresses);
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(DnsOutcome.NotFound, (await cache.ResolveAsync("missing.test")).Outcome);
        Assert.Equal(1, _server.Queries("missing.test"));

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(DnsOutcome.NotFound, (await cache.ResolveAsync("missing.test")).Outcome);
        Assert.Equal(2, _server.Queries("missing.test"));
    }

    [Fact]
    public async Task The_hosts_file_answers_before_any_query()
    {
        var hosts = Path.GetTempFileName();
        try
        {
            await File.WriteAllLinesAsync(hosts, ["# test hosts", "10.1.2.3   svc.test other.test  # comment", "::1 v6.test"]);
            _server.SetA("svc.test", 30, First);
            var cache = Cache(s => s with { HostsFile = hosts });

            var result = await cache.ResolveAsync("SVC.test");
            Assert.Equal([IPAddress.Parse("10.1.2.3")], result.Addresses.Select(a => a.Address));
            Assert.Equal(0, _server.AllQueries);
            // an address family the order does not ask for falls through to DNS (here: a name error)
            Assert.Equal(DnsOutcome.NotFound, (await cache.ResolveAsync("v6.test")).Outcome);
        }
        finally
        {
            File.Delete(hosts);
        }
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 8)]
    public async Task Concurrent_lookups_of_one_name_share_one_query_unless_dns_no_sync(bool noSync, int queries)
    {
        _server.SetA("svc.test", 30, First);
        var cache = Cache(s => s with { NoSync = noSync });
        _server.Hold();

        var lookups = Enumerable.Range(0, 8).Select(_ => cache.ResolveAsync("svc.test").AsTask()).ToArray();
        await Eventually.TrueAsync(() => _server.Queries("svc.test") >= 1);
        _server.Release();
        var results = await Task.WhenAll(lookups);

        Assert.All(results, r => Assert.Equal(First, r.Addresses[0].Address));
        Assert.Equal(queries, _server.Queries("svc.test"));
    }

    [Fact]
    public async Task A_failed_lookup_is_cached_for_dns_error_ttl()
    {
        using var closed = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        closed.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)closed.LocalEndPoint!).Port;
        closed.Close();
        var cache = Cache(s => s with { Resolvers = [new IPEndPoint(IPAddress.Loopback, port)], QueryTimeout = TimeSpan.FromSeconds(1),
            ErrorTtl = TimeSpan.FromSeconds(7) });
        var start = _time.GetUtcNow();

        var result = await cache.ResolveAsync("svc.test");

        Assert.Equal(DnsOutcome.Error, result.Outcome);
        Assert.Equal(start + TimeSpan.FromSeconds(7), result.ExpiresAt);
    }

    [Fact]
    public async Task An_unreachable_resolver_is_an_error_result_not_an_exception()
    {
        using var closed = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        closed.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)closed.LocalEndPoint!).Port;
        closed.Close(); // nothing listens there now: queries are refused (or time out)
        var cache = Cache(s => s with { Resolvers = [new IPEndPoint(IPAddress.Loopback, port)], QueryTimeout = TimeSpan.FromSeconds(1) });

        var result = await cache.ResolveAsync("svc.test");

        Assert.Equal(DnsOutcome.Error, result.Outcome);
        Assert.NotNull(result.Error);
    }

    [Fact]
    public async Task Srv_records_give_each_address_its_port_and_weight()
    {
        _server.SetSrv("_http._tcp.svc.test", 60, 1, 10, 8081, "node1.test");
        _server.SetA("node1.test", 30, First);
        var cache = Cache(s => s with { Order = [DnsRecordType.Srv, DnsRecordType.A] });

        var result = await cache.ResolveAsync("_http._tcp.svc.test");

        var address = Assert.Single(result.Addresses);
        Assert.Equal((First, 8081, 10, 1, "node1.test"), (address.Address, address.Port, address.Weight, address.Priority, address.SrvTarget));
        // the answer lives as long as its shortest record
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(30), result.ExpiresAt);
    }

    [Fact]
    public async Task Last_tries_the_type_that_answered_before_and_aaaa_is_asked_when_in_the_order()
    {
        var v6 = IPAddress.Parse("2001:db8::1");
        _server.SetA("svc.test", 10, v6);
        var cache = Cache(s => s with { Order = [DnsRecordType.Last, DnsRecordType.Srv, DnsRecordType.A, DnsRecordType.Aaaa] });

        Assert.Equal(v6, (await cache.ResolveAsync("svc.test")).Addresses[0].Address);
        Assert.Equal((1, 1, 1), (_server.Queries("svc.test", 33), _server.Queries("svc.test", 1), _server.Queries("svc.test", 28)));

        _time.Advance(TimeSpan.FromSeconds(11)); // the refresh asks AAAA first, and only AAAA
        await Eventually.TrueAsync(() => _server.Queries("svc.test", 28) == 2);
        Assert.Equal((1, 1), (_server.Queries("svc.test", 33), _server.Queries("svc.test", 1)));
    }

    [Fact]
    public void Kong_dns_order_and_dns_resolver_values_parse()
    {
        Assert.Equal([DnsRecordType.Last, DnsRecordType.Srv, DnsRecordType.Aaaa, DnsRecordType.Cname],
            DnsSettings.ParseOrder("last, SRV,aaaa,CNAME"));
        Assert.Contains("'MX'", Assert.Throws<FormatException>(() => DnsSettings.ParseOrder("A,MX")).Message);
        Assert.Equal([new IPEndPoint(IPAddress.Parse("10.0.0.53"), 53), new IPEndPoint(IPAddress.Parse("10.0.0.54"), 5353),
            new IPEndPoint(IPAddress.IPv6Loopback, 53), new IPEndPoint(IPAddress.IPv6Loopback, 5300)],
            DnsSettings.ParseResolvers("10.0.0.53, 10.0.0.54:5353,::1,[::1]:5300"));
        Assert.Throws<FormatException>(() => DnsSettings.ParseResolvers("dns.example:53"));
    }

    [Fact]
    public async Task An_ip_literal_resolves_to_itself_without_a_query()
    {
        var result = await Cache().ResolveAsync("192.0.2.7");
        Assert.Equal(IPAddress.Parse("192.0.2.7"), result.Addresses[0].Address);
        Assert.Equal(0, _server.AllQueries);
    }
}
