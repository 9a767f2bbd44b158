using Gatehouse.Wasm;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary>The header map filters see: its pair count (the num_headers of every headers callback) must match the
/// pairs it serializes, through its own edits and through edits made behind its back.</summary>
public sealed class AspNetHeaderMapTests
{
    private static (DefaultHttpContext Http, AspNetHeaderMap Map) Request(params (string Name, string[] Values)[] headers)
    {
        var http = new DefaultHttpContext();
        http.Request.Method = "GET";
        http.Request.Path = "/a";
        http.Request.Host = new HostString("example.test");
        foreach (var (name, values) in headers) http.Request.Headers[name] = values;
        return (http, new AspNetHeaderMap(http, response: false));
    }

    private static void AssertCountMatchesPairs(AspNetHeaderMap map) => Assert.Equal(Enumerable.Count(map), map.Count);

    [Fact]
    public void Count_is_pseudo_headers_plus_one_per_value()
    {
        var (_, map) = Request(("accept", ["a"]), ("x-multi", ["1", "2", "3"]));
        Assert.Equal(4 + 1 + 1 + 3, map.Count); // :method :path :authority :scheme, host, accept, 3 × x-multi
        AssertCountMatchesPairs(map);
    }

    [Fact]
    public void Count_follows_the_maps_own_edits()
    {
        var (_, map) = Request(("accept", ["a"]), ("x-multi", ["1", "2"]));
        _ = map.Count; // cached from here on
        map.Add("x-new", "1");
        AssertCountMatchesPairs(map);
        map.Add("x-multi", "3");
        AssertCountMatchesPairs(map);
        map.Replace("x-multi", "only");
        AssertCountMatchesPairs(map);
        map.Replace("x-absent", "v");
        AssertCountMatchesPairs(map);
        map.Remove("accept");
        AssertCountMatchesPairs(map);
        map.Remove("not-there");
        AssertCountMatchesPairs(map);
        map.Add(":path", "/b?q=1");
        AssertCountMatchesPairs(map);
        map.Clear();
        Assert.Equal(4, map.Count);
        AssertCountMatchesPairs(map);
    }

    [Fact]
    public void Count_notices_headers_added_or_removed_behind_its_back()
    {
        var (http, map) = Request(("accept", ["a"]));
        _ = map.Count;
        http.Request.Headers["x-plugin"] = "1";
        AssertCountMatchesPairs(map);
        http.Request.Headers.Remove("accept");
        AssertCountMatchesPairs(map);
    }

    [Fact]
    public void Response_map_counts_status_and_values()
    {
        var http = new DefaultHttpContext();
        http.Response.Headers["x-a"] = new[] { "1", "2" };
        var map = new AspNetHeaderMap(http, response: true);
        Assert.Equal(1 + 2, map.Count);
        map.Add("x-b", "v");
        AssertCountMatchesPairs(map);
    }
}
