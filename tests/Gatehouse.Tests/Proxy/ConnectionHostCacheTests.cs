using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.Proxy;

/// <summary>A connection keeps its last Host split and its port text for the next requests; a request with another
/// Host on the same connection still gets its own (X-Forwarded-Host and routing see each request's Host).</summary>
public sealed class ConnectionHostCacheTests
{
    private static ConnectionActivity NewConnection() =>
        new GatewayCounters().Opened(ListenerKind.Proxy);

    private static HttpRequest Request(string? host)
    {
        var http = new DefaultHttpContext();
        if (host is not null) http.Request.Headers.Host = host;
        return http.Request;
    }

    [Fact]
    public void The_same_host_is_split_once_and_another_host_is_split_again()
    {
        var connection = NewConnection();
        var first = connection.SplitHost(Request("Example.COM:8000"));
        Assert.Equal(("example.com", (int?)8000), first);
        var again = connection.SplitHost(Request(new string("Example.COM:8000".AsSpan())));
        Assert.Same(first.Host, again.Host);
        Assert.Equal(("other.test", (int?)null), connection.SplitHost(Request("other.test")));
        Assert.Equal(("[::1]", (int?)9000), connection.SplitHost(Request("[::1]:9000")));
        Assert.Equal(("", (int?)null), connection.SplitHost(Request(null)));
        Assert.Equal(("example.com", (int?)8000), connection.SplitHost(Request("Example.COM:8000")));
    }

    [Theory]
    [InlineData("xn--bcher-kva.example:8443")]
    [InlineData("XN--BCHER-KVA.example")]
    [InlineData("b\u00fccher.example")]
    [InlineData("")]
    public void The_cached_split_is_that_of_the_decoded_host_as_without_a_cache(string host)
    {
        host = System.Text.RegularExpressions.Regex.Unescape(host);
        var connection = NewConnection();
        var uncached = Gatehouse.Routing.RouteRequest.SplitHost(Request(host).Host.Value);
        Assert.Equal(uncached, connection.SplitHost(Request(host)));
        Assert.Equal(uncached, connection.SplitHost(Request(new string(host.AsSpan())))); // from the cache
    }

    [Fact]
    public void The_port_text_is_the_connections_local_port()
    {
        var http = new DefaultHttpContext();
        http.Connection.LocalPort = 8443;
        var connection = NewConnection();
        Assert.Equal("8443", connection.LocalPortText(http));
        Assert.Same(connection.LocalPortText(http), connection.LocalPortText(http));
    }
}
