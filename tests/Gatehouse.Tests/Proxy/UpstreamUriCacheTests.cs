using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.Proxy;

/// <summary>The upstream URI of a request without a query is reused while a destination is asked for the same path
/// (no Uri built per request); its text is always the destination plus the wire-form path and the client's query.</summary>
public sealed class UpstreamUriCacheTests
{
    [Fact]
    public void Same_destination_and_path_reuse_one_uri()
    {
        var cache = new UpstreamUriCache();
        var first = GatehouseTransformer.UpstreamUri("http://127.0.0.1:8080", "/a%2Fb", QueryString.Empty, cache);
        var second = GatehouseTransformer.UpstreamUri("http://127.0.0.1:8080", "/a%2Fb", QueryString.Empty, cache);
        Assert.Same(first, second);
        Assert.Equal("http://127.0.0.1:8080/a%2Fb", first.OriginalString);
        Assert.Equal("/a%2Fb", first.AbsolutePath); // not canonicalised again
    }

    [Fact]
    public void A_reused_uri_allocates_nothing()
    {
        var cache = new UpstreamUriCache();
        var path = new string("/a".AsSpan()); // another string with the same text, as each request's path is
        GatehouseTransformer.UpstreamUri("http://127.0.0.1:8080", "/a", QueryString.Empty, cache);
        var before = GC.GetAllocatedBytesForCurrentThread();
        GatehouseTransformer.UpstreamUri("http://127.0.0.1:8080", path, QueryString.Empty, cache);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Another_path_or_destination_gets_its_own_uri()
    {
        var cache = new UpstreamUriCache();
        var a = GatehouseTransformer.UpstreamUri("http://127.0.0.1:8080", "/a", QueryString.Empty, cache);
        var b = GatehouseTransformer.UpstreamUri("http://127.0.0.1:8080", "/b", QueryString.Empty, cache);
        var c = GatehouseTransformer.UpstreamUri("https://127.0.0.1:8080", "/b", QueryString.Empty, cache);
        var empty = GatehouseTransformer.UpstreamUri("http://127.0.0.1:8080", "", QueryString.Empty, cache);
        Assert.Equal("http://127.0.0.1:8080/a", a.OriginalString);
        Assert.Equal("http://127.0.0.1:8080/b", b.OriginalString);
        Assert.Equal("https://127.0.0.1:8080/b", c.OriginalString);
        Assert.Equal("http://127.0.0.1:8080/", empty.OriginalString);
    }

    [Fact]
    public void A_query_is_never_cached()
    {
        var cache = new UpstreamUriCache();
        var plain = GatehouseTransformer.UpstreamUri("http://h:80", "/p", QueryString.Empty, cache);
        var withQuery = GatehouseTransformer.UpstreamUri("http://h:80", "/p", new QueryString("?x=1"), cache);
        var again = GatehouseTransformer.UpstreamUri("http://h:80", "/p", new QueryString("?x=1"), cache);
        Assert.Equal("http://h:80/p?x=1", withQuery.OriginalString);
        Assert.NotSame(withQuery, again);
        Assert.Same(plain, GatehouseTransformer.UpstreamUri("http://h:80", "/p", QueryString.Empty, cache));
    }
}
