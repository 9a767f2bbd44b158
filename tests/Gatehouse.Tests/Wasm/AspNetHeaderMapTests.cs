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
    public void Counting_the_headers_allocates_nothing()
    {
        // every filter's headers callbacks count the headers (num_headers): no enumerator boxed per request
        var (http, map) = Request(("accept", ["a"]), ("x-multi", ["1", "2", "3"]));
        _ = map.Count; // the pool's first array
        http.Request.Headers["x-plugin"] = "1"; // behind the map's back: counted afresh
        var before = GC.GetAllocatedBytesForCurrentThread();
        var count = map.Count;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(4 + 1 + 1 + 3 + 1, count);
        Assert.Equal(0, allocated);
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

    // Found by the header-map fuzz target (HeaderMapFuzzTests).

    [Fact]
    public void Authority_is_the_host_header_as_sent_even_when_it_is_not_valid_idn()
    {
        // HostString decodes "xn--" labels and throws on invalid ones: a client's Host header must not be able to
        // make the map throw (the host call would kill the filter's VM)
        foreach (var host in new[] { "xn--a", "xn--" + new string('a', 70) + ".test", "xn--zz--.example:8080" })
        {
            var (http, map) = Request();
            http.Request.Headers.Host = host;
            Assert.Contains(KeyValuePair.Create(":authority", host), map.ToList());
            Assert.True(map.TryGetValue(":authority", out var authority));
            Assert.Equal(host, authority);
            AssertCountMatchesPairs(map);
        }
    }

    [Fact]
    public void Setting_authority_writes_the_host_header_as_given()
    {
        var (http, map) = Request();
        map.Replace(":authority", "\u00fc" + new string('a', 70) + ".test");
        Assert.Equal("\u00fc" + new string('a', 70) + ".test", http.Request.Headers.Host.ToString());
        map.Add(":authority", "xn--a:81");
        Assert.Equal("xn--a:81", http.Request.Headers.Host.ToString());
    }

    [Fact]
    public void Count_matches_pairs_when_the_headers_drop_an_empty_value()
    {
        var (_, map) = Request();
        _ = map.Count;
        map.Add("x-empty", ""); // DefaultHttpContext's dictionary stores nothing for a lone empty value
        AssertCountMatchesPairs(map);
        map.Replace("x-empty", "");
        AssertCountMatchesPairs(map);
        map.Remove("x-empty");
        AssertCountMatchesPairs(map);
    }

    [Fact]
    public void Serialised_pairs_are_what_the_map_enumerates_even_when_a_value_was_appended_behind_its_back()
    {
        var (http, map) = Request(("accept", ["a"]));
        _ = map.Count; // cached; the next edit keeps the number of names, so the cache cannot see it
        http.Request.Headers.Append("accept", "b");
        var buffer = new byte[ProxyWasm.Abi.PairsCodec.SizeOf(map)];
        ProxyWasm.Abi.PairsCodec.Write(map, buffer);
        var parsed = new List<KeyValuePair<string, string>>();
        Assert.True(ProxyWasm.Abi.PairsCodec.TryParse(buffer, int.MaxValue, int.MaxValue, parsed));
        Assert.Equal(map.ToList(), parsed);
    }

    [Fact]
    public void Count_follows_an_authority_edit_that_replaces_a_repeated_host()
    {
        var (_, map) = Request();
        map.Add("host", "second"); // two Host values
        _ = map.Count;
        map.Add(":authority", "one.test"); // writes the Host header: one value again
        AssertCountMatchesPairs(map);
    }
}
