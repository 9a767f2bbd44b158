using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.Proxy;

/// <summary>A connection keeps its last Host split and its port text for the next requests; a request with another
/// Host on the same connection still gets its own (X-Forwarded-Host and routing see each request's Host).</summary>
public sealed class ConnectionHostCacheTests
{
    private static ConnectionActivity NewConnection() =>
        new GatewayCounters().Opened(ListenerKind.Proxy);

    [Fact]
    public void The_same_host_is_split_once_and_another_host_is_split_again()
    {
        var connection = NewConnection();
        var first = connection.SplitHost("Example.COM:8000");
        Assert.Equal(("example.com", (int?)8000), first);
        var again = connection.SplitHost(new string("Example.COM:8000".AsSpan()));
        Assert.Same(first.Host, again.Host);
        Assert.Equal(("other.test", (int?)null), connection.SplitHost("other.test"));
        Assert.Equal(("[::1]", (int?)9000), connection.SplitHost("[::1]:9000"));
        Assert.Equal(("", (int?)null), connection.SplitHost(null));
        Assert.Equal(("example.com", (int?)8000), connection.SplitHost("Example.COM:8000"));
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
