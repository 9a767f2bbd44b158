using Gatehouse.Model;
using Gatehouse.Routing;
using Microsoft.AspNetCore.Http;
using static Gatehouse.Tests.Infrastructure.TestConfig;

namespace Gatehouse.Tests.Routing;

/// <summary>Matcher-level checks that need no sockets: indexes, SNIs, captures, priorities, compile errors.</summary>
public sealed class RouterTests
{
    private static readonly ServiceModel Svc = Service("127.0.0.1", 1);

    private static RouteMatch? Match(Router router, string path, string host = "", string method = "GET",
        string? sni = null, bool tls = false, HeaderDictionary? headers = null)
    {
        var (h, port) = RouteRequest.SplitHost(host);
        return router.Match(new RouteRequest(method, h, port, path, headers ?? new HeaderDictionary(), sni, tls));
    }

    private static Router Build(params RouteModel[] routes) => Router.Build(Of([Svc], routes));

    [Fact]
    public void ManyRoutesStillFindTheRightOne()
    {
        var routes = Enumerable.Range(0, 5000)
            .Select(i => Route(Svc, $"r{i}", paths: [$"/svc{i}"], hosts: i % 2 == 0 ? [$"host{i}.test"] : []))
            .ToArray();
        var router = Build(routes);
        Assert.Equal(5000, router.Count);
        Assert.Equal("r4242", Match(router, "/svc4242/x", "host4242.test")!.Route.Route.Name);
        Assert.Equal("r4243", Match(router, "/svc4243/x", "any.test")!.Route.Route.Name);
        Assert.Null(Match(router, "/svc4242/x", "other.test"));
    }

    /// <summary>The host and path indexes (small sets scanned, large ones hashed by prefix) pick what a scan of every
    /// route in Kong's priority order picks: hosts holding 1 to 40 routes, prefixes shared by routes of different
    /// priorities (methods, longer paths), regex routes with regex_priority, wildcard hosts and host-less routes.</summary>
    [Fact]
    public void IndexedMatchEqualsAScanOfEveryRouteInPriorityOrder()
    {
        var r = new Random(16);
        var routes = new List<RouteModel>();
        for (var h = 0; h < 300; h++)
        {
            var count = h % 10 == 0 ? 40 : 1 + h % 4; // some sets above RouteSet.ScanLimit, most below
            for (var k = 0; k < count; k++)
            {
                var host = r.Next(6) switch { 0 => $"*.h{h % 7}.test", 1 => $"h{h % 7}.*", _ => $"h{h}.test" };
                var paths = r.Next(5) == 0 ? [$"~/p{r.Next(5)}/[0-9]+"] : new[] { $"/p{r.Next(5)}", $"/p{r.Next(5)}/{r.Next(3)}" }[..r.Next(1, 3)];
                var route = Route(Svc, $"h{h}-{k}", paths: paths, hosts: r.Next(12) == 0 ? [] : [host],
                    methods: r.Next(4) == 0 ? ["POST"] : null) with { RegexPriority = r.Next(3) };
                routes.Add(route);
            }
        }
        var router = Build([.. routes]);
        var byPriority = routes.Select((route, i) => (Compiled: new CompiledRoute(route, Svc), Index: i))
            .OrderByDescending(c => c.Compiled.Priority).ThenBy(c => c.Compiled.Route.CreatedAt).ThenBy(c => c.Index)
            .Select(c => c.Compiled).ToArray();
        var checkedMatches = 0;
        for (var q = 0; q < 4000; q++)
        {
            var host = r.Next(4) switch { 0 => $"x.h{r.Next(7)}.test", 1 => $"h{r.Next(7)}.example", _ => $"h{r.Next(300)}.test" };
            var path = r.Next(3) == 0 ? $"/p{r.Next(5)}/{r.Next(100)}" : $"/p{r.Next(5)}/{r.Next(3)}/x";
            var method = r.Next(3) == 0 ? "POST" : "GET";
            var request = new RouteRequest(method, host, null, path, new HeaderDictionary(), null, false);
            var expected = byPriority.FirstOrDefault(c => c.TryMatch(request, out _));
            var got = router.Match(request);
            Assert.True(expected?.Route.Id == got?.Route.Route.Id,
                $"{method} {host}{path}: expected {expected?.Route.Name ?? "none"}, got {got?.Route.Route.Name ?? "none"}");
            if (got is not null) checkedMatches++;
        }
        Assert.True(checkedMatches > 1000, $"only {checkedMatches} requests matched a route");
    }

    /// <summary>A compiled route scans its model's own paths when they are plain and longest first already (most routes
    /// have one path; a copy per route was 3 MB of 100,000), and its own sorted copy otherwise; matching is the same.</summary>
    [Fact]
    public void Plain_paths_longest_first_are_scanned_as_the_model_has_them_and_others_from_a_sorted_copy()
    {
        var one = Route(Svc, "one", paths: ["/one"]);
        var sorted = Route(Svc, "sorted", paths: ["/longer", "/l"]);
        var unsorted = Route(Svc, "unsorted", paths: ["/a", "/abc"]);
        var withRegex = Route(Svc, "regex", paths: ["/p", "~/r$"]);
        Assert.Same(one.Paths, new CompiledRoute(one, Svc).Prefixes);
        Assert.Same(sorted.Paths, new CompiledRoute(sorted, Svc).Prefixes);
        Assert.Equal(["/abc", "/a"], new CompiledRoute(unsorted, Svc).Prefixes);
        Assert.Equal(["/p"], new CompiledRoute(withRegex, Svc).Prefixes);
        Assert.Equal(["/a", "/abc"], unsorted.Paths);

        // each on a host of its own (a set of one route scans that route's prefixes) and all on one host
        foreach (var (router, hosted) in new[]
        {
            (Build(one with { Hosts = ["one.test"] }, sorted with { Hosts = ["sorted.test"] }, unsorted with { Hosts = ["unsorted.test"] },
                withRegex with { Hosts = ["regex.test"] }), true),
            (Build(one, sorted, unsorted, withRegex), false),
        })
        {
            string Host(string name) => hosted ? name + ".test" : "";
            Assert.Equal("sorted", Match(router, "/longer/x", Host("sorted"))?.Route.Route.Name);
            Assert.Equal("/x", Match(router, "/longer/x", Host("sorted"))?.UpstreamPath);
            Assert.Equal("/ong", Match(router, "/long", Host("sorted"))?.UpstreamPath);
            Assert.Equal("/d", Match(router, "/abcd", Host("unsorted"))?.UpstreamPath);
            Assert.Equal("/x", Match(router, "/ax", Host("unsorted"))?.UpstreamPath);
            Assert.Equal("regex", Match(router, "/r", Host("regex"))?.Route.Route.Name);
            Assert.Equal("regex", Match(router, "/p/q", Host("regex"))?.Route.Route.Name);
            Assert.Null(Match(router, "/q", Host("one")));
        }
    }

    [Fact]
    public void SniIsCheckedOnTlsRequestsOnly()
    {
        var router = Build(Route(Svc, "sni", paths: ["/"]) with { Snis = ["secure.test"], Protocols = ["https"] });
        Assert.NotNull(Match(router, "/", sni: "secure.test", tls: true));
        Assert.Null(Match(router, "/", sni: "other.test", tls: true));
        Assert.Null(Match(router, "/", tls: false));
        var both = Build(Route(Svc, "sni", paths: ["/"]) with { Snis = ["secure.test"], Protocols = ["http", "https"] });
        Assert.NotNull(Match(both, "/", tls: false));
    }

    [Fact]
    public void WildcardSnisMatchBySuffixOrPrefix()
    {
        var router = Build(Route(Svc, "sni", paths: ["/"]) with { Snis = ["*.secure.test", "edge.*"], Protocols = ["https"] });
        Assert.NotNull(Match(router, "/", sni: "a.secure.test", tls: true));
        Assert.NotNull(Match(router, "/", sni: "A.B.SECURE.test", tls: true));
        Assert.Null(Match(router, "/", sni: "secure.test", tls: true));
        Assert.NotNull(Match(router, "/", sni: "edge.example", tls: true));
        Assert.Null(Match(router, "/", sni: "edgex.example", tls: true));
    }

    [Fact]
    public void RegexCapturesAreNumberedAndNamed()
    {
        var router = Build(Route(Svc, "re", paths: [@"~/files/(?<name>[a-z]+)\.(\w+)"]));
        var match = Match(router, "/files/report.pdf/tail")!;
        Assert.Equal("/files/report.pdf", match.Captures.Groups[0]);
        // PCRE numbering (Kong's uri_captures): left to right, named groups included.
        Assert.Equal("report", match.Captures.Groups[1]);
        Assert.Equal("pdf", match.Captures.Groups[2]);
        Assert.Equal("report", match.Captures.Named["name"]);
        Assert.Equal("/files/report.pdf", match.StrippedPrefix);
        Assert.Equal("/tail", match.UpstreamPath);
    }

    [Fact]
    public void CatastrophicRegexDoesNotHang()
    {
        var router = Build(Route(Svc, "evil", paths: ["~/(a+)+$"]));
        var input = "/" + new string('a', 50_000) + "!";
        Assert.Null(Match(router, input));
    }

    [Fact]
    public void InvalidRouteIsSkippedNotFatal()
    {
        var router = Build(Route(Svc, "bad", paths: ["~/(unclosed"]), Route(Svc, "good", paths: ["/good"]));
        Assert.Equal(1, router.Count);
        Assert.Equal("good", Match(router, "/good")!.Route.Route.Name);
    }

    [Fact]
    public void PriorityFollowsKongBitLayout()
    {
        var hostsAndPath = RoutePriority.Compute(Route(Svc, "a", paths: ["/a"], hosts: ["x.test"]));
        var longPathOnly = RoutePriority.Compute(Route(Svc, "b", paths: ["/" + new string('b', 1000)]));
        var wildcardHost = RoutePriority.Compute(Route(Svc, "c", paths: ["/a"], hosts: ["*.test"]));
        var regex = RoutePriority.Compute(Route(Svc, "d", paths: ["~/a"]));
        var prefix = RoutePriority.Compute(Route(Svc, "e", paths: ["/aaaaaaaa"]));
        Assert.True(hostsAndPath > longPathOnly);
        Assert.True(hostsAndPath > wildcardHost);
        Assert.True(regex > prefix);
        Assert.Equal(2UL, hostsAndPath >> 61);
    }

    [Fact]
    public void HostIndexHandlesWildcardsAtEveryLabel()
    {
        var router = Build(
            Route(Svc, "deep", hosts: ["*.b.example.com"]),
            Route(Svc, "shallow", hosts: ["*.example.com"]),
            Route(Svc, "tail", hosts: ["api.*"]));
        Assert.Equal("deep", Match(router, "/", "a.b.example.com")!.Route.Route.Name);
        Assert.Equal("shallow", Match(router, "/", "x.example.com")!.Route.Route.Name);
        Assert.Equal("tail", Match(router, "/", "api.example.org")!.Route.Route.Name);
        Assert.Null(Match(router, "/", "api"));
    }

    [Theory]
    [InlineData(null, "/foo", "/foo", true, "v0", "/")]
    [InlineData("/", "/foo/bar", "/foo", true, "v0", "/bar")]
    [InlineData("/s", "/foo", "/foo", false, "v0", "/s/foo")]
    [InlineData("/s/", "/", "/", false, "v0", "/s/")]
    [InlineData("/s", "/", "/", true, "v0", "/s")]
    [InlineData("/s", "/foo/./x", "/foo/", true, "v0", "/s/x")]
    [InlineData("/s", "/tv1/x", "/tv1", true, "v1", "/s/x")]
    [InlineData("/s/", "/fv1", "/fv1", false, "v1", "/s/fv1")]
    public void UpstreamPathBuilderFollowsKong(string? servicePath, string request, string matchedPrefix, bool strip, string handling, string expected)
    {
        Assert.StartsWith(matchedPrefix, request);
        Assert.Equal(expected, UpstreamPathBuilder.Build(servicePath, request, matchedPrefix.Length, strip, handling));
    }

    /// <summary>Found by the router fuzz target: an empty Host (HTTP/1.0, or "Host:" with no value) with a
    /// "*.suffix" route configured threw ArgumentOutOfRangeException from the suffix probe.</summary>
    [Fact]
    public void EmptyHostWithWildcardRoutesIsAnAnswerNotAnException()
    {
        var router = Build(Route(Svc, "suffix", paths: ["/"], hosts: ["*.example.com"]), Route(Svc, "prefix", paths: ["/"], hosts: ["example.*"]),
            Route(Svc, "any", paths: ["/any"]));
        Assert.Null(Match(router, "/", host: ""));
        Assert.Equal("any", Match(router, "/any", host: "")!.Route.Route.Name);
        Assert.Null(Match(router, "/", host: "."));
        Assert.Null(Match(router, "/", host: "x"));
    }

    /// <summary>Found by the router fuzz target: the router wraps a regex path as "^(?:" + pattern + ")", so a pattern
    /// that does not compile on its own could close its own group there ("/a)|(.*" matched every path).</summary>
    [Fact]
    public void ARegexPathThatIsNotARegexOnItsOwnIsLeftOut()
    {
        var router = Build(Route(Svc, "broken", paths: ["~/a)|(.*"]), Route(Svc, "ok", paths: ["/ok"]));
        Assert.Equal(1, router.Count);
        Assert.Null(Match(router, "/anything"));
        Assert.Equal("ok", Match(router, "/ok")!.Route.Route.Name);
    }

    /// <summary>.NET's NonBacktracking engine (linear time) has no lookarounds, backreferences or atomic groups; such a
    /// pattern throws NotSupportedException, which must leave that route out, not fail the whole router.</summary>
    [Theory]
    [InlineData("~/(?=a)a")]
    [InlineData(@"~/(a)\1")]
    [InlineData("~/(?>a+)")]
    public void ARegexPathTheEngineCannotRunIsLeftOut(string path)
    {
        var router = Build(Route(Svc, "unsupported", paths: [path]), Route(Svc, "ok", paths: ["/ok"]));
        Assert.Equal(1, router.Count);
        Assert.Equal("ok", Match(router, "/ok")!.Route.Route.Name);
    }
}
