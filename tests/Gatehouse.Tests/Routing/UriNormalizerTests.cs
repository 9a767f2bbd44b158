using Gatehouse.Routing;

namespace Gatehouse.Tests.Routing;

/// <summary>The normaliser alone: the routing view it produces, what it refuses, and that an already-normal path
/// costs no allocation (the end-to-end bytes are in Reliability.PathCaseTests).</summary>
public sealed class UriNormalizerTests
{
    [Theory]
    [InlineData("/", "/")]
    [InlineData("/a//b", "/a/b")]
    [InlineData("//a///b//", "/a/b/")]
    [InlineData("/a/./b/../c", "/a/c")]
    [InlineData("/a/b/..", "/a/")]
    [InlineData("/a/%2e%2E/b", "/b")]
    [InlineData("/%41%7e", "/A~")]
    [InlineData("/a%2fb", "/a%2Fb")]
    [InlineData("/a%2F..%2Fb", "/a%2F..%2Fb")]
    [InlineData("/a%20b", "/a b")]
    [InlineData("/caf%C3%A9", "/café")]
    [InlineData("/%F0%9F%98%80", "/\U0001F600")]
    [InlineData("/a%ff", "/a%FF")]
    [InlineData("/a%C3", "/a%C3")]
    [InlineData("/%C3%A9%ff%C3%A9", "/é%FFé")]
    [InlineData("/a%25zz", "/a%25zz")]
    [InlineData("/.well-known/x", "/.well-known/x")]
    public void Normalises_as_kong(string raw, string expected)
    {
        Assert.True(UriNormalizer.TryNormalize(raw, null, out var path));
        Assert.Equal(expected, path);
    }

    [Theory]
    [InlineData("/a%zz")]
    [InlineData("/a%2")]
    [InlineData("/a%")]
    [InlineData("/a%00")]
    [InlineData("/..")]
    [InlineData("/a/../..")]
    [InlineData("/%2e%2e/a")]
    [InlineData("/a%2F..%2F..")]
    [InlineData("/a//../..")]
    [InlineData("a/b")]
    [InlineData("")]
    public void Refuses_what_nginx_answers_400(string raw) => Assert.False(UriNormalizer.TryNormalize(raw, null, out _));

    [Theory]
    [InlineData("/a b/é", "/a%20b/%C3%A9")]
    [InlineData("/a%FF\"<>\\^`{|}", "/a%FF%22%3C%3E%5C%5E%60%7B%7C%7D")]
    [InlineData("/a\nb", "/a%0Ab")]
    public void Escape_writes_what_a_request_line_cannot_carry_as_utf8_escapes(string path, string wire) =>
        Assert.Equal(wire, UriNormalizer.Escape(path));

    [Theory]
    [InlineData("/api/users/42")]
    [InlineData("/.well-known/acme")]
    [InlineData("/a:b@c!$&'()*+,;=~")]
    public void An_already_normal_path_is_returned_without_allocating(string raw)
    {
        var candidate = new string(raw.AsSpan());
        for (var i = 0; i < 10; i++) UriNormalizer.TryNormalize(raw.AsSpan(), candidate, out _);
        var before = GC.GetAllocatedBytesForCurrentThread();
        string? path = null;
        for (var i = 0; i < 1000; i++) UriNormalizer.TryNormalize(raw.AsSpan(), candidate, out path);
        var escaped = UriNormalizer.Escape(path!);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Same(candidate, path);
        Assert.Same(path, escaped);
        Assert.Equal(0, allocated);
    }

    [Theory]
    [InlineData("/p?q=1", "/p", "?q=1")]
    [InlineData("/p", "/p", "")]
    [InlineData("http://h.test/p?q", "/p", "?q")]
    [InlineData("http://h.test", "/", "")]
    [InlineData("http://h.test?q", "/", "?q")]
    public void Splits_origin_and_absolute_form(string target, string path, string query)
    {
        Assert.True(UriNormalizer.TrySplitTarget(target, out var p, out var q));
        Assert.Equal(path, p.ToString());
        Assert.Equal(query, q.ToString());
    }

    [Theory]
    [InlineData("*")]
    [InlineData("h.test:443")]
    public void Refuses_asterisk_and_authority_form(string target) => Assert.False(UriNormalizer.TrySplitTarget(target, out _, out _));

    [Fact]
    public void Long_hostile_paths_take_linear_time()
    {
        // 256 KiB of "/a" followed by as many "/..", and of escapes: a quadratic pass would take seconds
        var climb = string.Concat(Enumerable.Repeat("/a", 65536)) + string.Concat(Enumerable.Repeat("/..", 65536));
        var escapes = "/" + string.Concat(Enumerable.Repeat("%41%2F%C3%A9", 32768));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(UriNormalizer.TryNormalize(climb, null, out var p1));
        Assert.Equal("/", p1);
        Assert.True(UriNormalizer.TryNormalize(escapes, null, out var p2));
        Assert.Equal(1 + 32768 * 5, p2.Length);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }

    /// <summary>Random targets built from the pieces that matter (slashes, dots, escapes of every kind, reserved and
    /// unsafe characters): the wire form the upstream receives normalises back to exactly the path the router
    /// matched (an upstream that normalises as Kong sees the same resource), normalising is idempotent, and the
    /// result has no empty or dot segment. Seeded, so a failure replays.</summary>
    [Fact]
    public void What_the_upstream_receives_normalises_to_what_was_routed()
    {
        string[] pieces = ["/", "//", ".", "..", "/./", "/../", "a", "b", "%2e", "%2E", "%2F", "%2f", "%25", "%41", "%7e",
            "%20", "%3C", "%C3%A9", "%ff", "%C3", "%80", "%F0%9F%98%80", ":", "@", "!", "$", "~", "é", "\\", "{", "%5C", "%3F", "%23"];
        var random = new Random(20261202);
        var tried = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var raw = new System.Text.StringBuilder("/");
            for (var n = random.Next(1, 12); n > 0; n--) raw.Append(pieces[random.Next(pieces.Length)]);
            if (!UriNormalizer.TryNormalize(raw.ToString(), null, out var routed)) continue;
            tried++;
            var wire = UriNormalizer.Escape(routed);
            Assert.True(wire.All(c => c is > ' ' and < (char)0x7F), $"{raw} -> {wire}");
            Assert.True(UriNormalizer.TryNormalize(wire, null, out var again), $"{raw} -> {wire}");
            Assert.Equal(routed, again);
            Assert.True(UriNormalizer.TryNormalize(routed, null, out var twice) && twice == routed, raw.ToString());
            Assert.StartsWith("/", routed);
            Assert.DoesNotContain("//", routed);
            Assert.DoesNotContain("/./", routed + "/");
            Assert.DoesNotContain("/../", routed + "/");
        }
        Assert.True(tried > 10_000, $"only {tried} accepted");
    }
}
