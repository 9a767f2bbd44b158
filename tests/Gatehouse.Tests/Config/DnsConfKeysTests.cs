using System.Net;
using Gatehouse.Config;
using Gatehouse.Proxy.Balancing.Dns;

namespace Gatehouse.Tests.Config;

/// <summary>Kong's dns_* keys: defaults, parsing, validation naming the key, the DNS cache's settings they give, and
/// the Kong 3.9 keys Gatehouse refuses.</summary>
public sealed class DnsConfKeysTests
{
    private static ConfLoadResult Load(string text) => GatehouseConfLoader.LoadText(text, new Dictionary<string, string?>());

    [Fact]
    public void Defaults_are_Kongs()
    {
        var dns = DnsSettings.From(Load("").Options!.Dns);
        Assert.Empty(dns.Resolvers);
        Assert.Equal("/etc/hosts", dns.HostsFile);
        Assert.Equal([DnsRecordType.Last, DnsRecordType.Srv, DnsRecordType.A, DnsRecordType.Cname], dns.Order);
        Assert.Null(dns.ValidTtl);
        Assert.Equal(TimeSpan.FromSeconds(3600), dns.StaleTtl);
        Assert.Equal(TimeSpan.FromSeconds(30), dns.NotFoundTtl);
        Assert.Equal(TimeSpan.FromSeconds(1), dns.ErrorTtl);
        Assert.False(dns.NoSync);
    }

    [Fact]
    public void Values_reach_the_dns_cache_settings()
    {
        var hosts = Path.GetTempFileName();
        try
        {
            var result = Load($"""
                dns_resolver = 127.0.0.1:5353, 10.0.0.2, [::1]:54
                dns_hostsfile = {hosts}
                dns_order = a,aaaa
                dns_valid_ttl = 5
                dns_stale_ttl = 0.5
                dns_not_found_ttl = 2
                dns_error_ttl = 3
                dns_no_sync = on
                new_dns_client = off
                """);
            Assert.Empty(result.Errors);
            var dns = DnsSettings.From(result.Options!.Dns);
            Assert.Equal([IPEndPoint.Parse("127.0.0.1:5353"), IPEndPoint.Parse("10.0.0.2:53"), IPEndPoint.Parse("[::1]:54")], dns.Resolvers);
            Assert.Equal(hosts, dns.HostsFile);
            Assert.Equal([DnsRecordType.A, DnsRecordType.Aaaa], dns.Order);
            Assert.Equal(TimeSpan.FromSeconds(5), dns.ValidTtl);
            Assert.Equal(TimeSpan.FromMilliseconds(500), dns.StaleTtl);
            Assert.Equal(TimeSpan.FromSeconds(2), dns.NotFoundTtl);
            Assert.Equal(TimeSpan.FromSeconds(3), dns.ErrorTtl);
            Assert.True(dns.NoSync);
        }
        finally
        {
            File.Delete(hosts);
        }
    }

    [Theory]
    [InlineData("dns_resolver = dns.example.com", "dns_resolver: must be a comma separated list in the form of IPv4/6 or IPv4/6:port, got 'dns.example.com'")]
    [InlineData("dns_hostsfile = /nonexistent/hosts", "dns_hostsfile: file does not exist")]
    [InlineData("dns_order = A,MX", "dns_order: invalid entry 'MX'")]
    [InlineData("dns_valid_ttl = soon", "dns_valid_ttl: 'soon' is not a number of seconds (0 or more)")]
    [InlineData("dns_stale_ttl = -1", "dns_stale_ttl: '-1' is not a number of seconds (0 or more)")]
    [InlineData("dns_not_found_ttl = x", "dns_not_found_ttl: 'x' is not a number of seconds (0 or more)")]
    [InlineData("dns_error_ttl = 1h", "dns_error_ttl: '1h' is not a number of seconds (0 or more)")]
    [InlineData("dns_no_sync = maybe", "dns_no_sync: 'maybe' is not a boolean (use on or off)")]
    public void Invalid_values_stop_the_start_naming_the_key(string line, string error)
    {
        var result = Load(line);
        Assert.Null(result.Options);
        Assert.Equal([error], result.Errors);
    }

    [Theory]
    [InlineData("dns_cache_size = 10000", "dns_cache_size: not supported by Gatehouse")]
    [InlineData("new_dns_client = on", "new_dns_client: 'on' is not supported by Gatehouse")]
    public void Kong_dns_keys_Gatehouse_does_not_implement_stop_the_start(string line, string error)
    {
        var result = Load(line);
        Assert.Null(result.Options);
        Assert.StartsWith(error, Assert.Single(result.Errors));
        Assert.Empty(result.Warnings); // not "unknown configuration key ignored"
    }
}
