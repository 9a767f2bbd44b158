using Gatehouse.Model;
using static Gatehouse.Tests.Infrastructure.TestConfig;

namespace Gatehouse.Tests.Routing;

/// <summary>The route-matching table (Kong traditional_compatible semantics), run through real HTTP.</summary>
public static class RouteTableCases
{
    private static Dictionary<string, IReadOnlyList<string>> H(string name, params string[] values) => new() { [name] = values };

    private static RouteModel[] One(RouteModel r) => [r];

    public static IEnumerable<RouteCase> All()
    {
        // :: hosts
        yield return new("exact host", s => One(Route(s, "a", hosts: ["example.com"])), "/", "example.com", ExpectRoute: "a");
        yield return new("exact host mismatch", s => One(Route(s, "a", hosts: ["example.com"])), "/", "other.com");
        yield return new("host is case-insensitive", s => One(Route(s, "a", hosts: ["example.com"])), "/", "EXAMPLE.Com", ExpectRoute: "a");
        yield return new("request port ignored by portless host", s => One(Route(s, "a", hosts: ["example.com"])), "/", "example.com:8000", ExpectRoute: "a");
        yield return new("host with port matches same port", s => One(Route(s, "a", hosts: ["example.com:8080"])), "/", "example.com:8080", ExpectRoute: "a");
        yield return new("host with port needs the port", s => One(Route(s, "a", hosts: ["example.com:8080"])), "/", "example.com");
        yield return new("host with port, other port", s => One(Route(s, "a", hosts: ["example.com:8080"])), "/", "example.com:9090");
        yield return new("suffix wildcard", s => One(Route(s, "w", hosts: ["*.example.com"])), "/", "api.example.com", ExpectRoute: "w");
        yield return new("suffix wildcard, several labels", s => One(Route(s, "w", hosts: ["*.example.com"])), "/", "a.b.example.com", ExpectRoute: "w");
        yield return new("suffix wildcard needs a label", s => One(Route(s, "w", hosts: ["*.example.com"])), "/", "example.com");
        yield return new("prefix wildcard", s => One(Route(s, "p", hosts: ["example.*"])), "/", "example.org", ExpectRoute: "p");
        yield return new("prefix wildcard, several labels", s => One(Route(s, "p", hosts: ["example.*"])), "/", "example.co.uk", ExpectRoute: "p");
        yield return new("prefix wildcard mismatch", s => One(Route(s, "p", hosts: ["example.*"])), "/", "myexample.org");
        yield return new("plain host beats wildcard", s => [Route(s, "wild", hosts: ["*.example.com"]), Route(s, "plain", hosts: ["api.example.com"])],
            "/", "api.example.com", ExpectRoute: "plain");
        yield return new("wildcard when plain differs", s => [Route(s, "wild", hosts: ["*.example.com"]), Route(s, "plain", hosts: ["api.example.com"])],
            "/", "www.example.com", ExpectRoute: "wild");
        yield return new("one of several hosts", s => One(Route(s, "m", hosts: ["a.test", "b.test"])), "/", "b.test", ExpectRoute: "m");
        // :: paths
        yield return new("prefix path, stripped", s => One(Route(s, "r", paths: ["/foo"])), "/foo/bar", ExpectRoute: "r", ExpectUpstreamPath: "/bar");
        yield return new("prefix is a plain string prefix", s => One(Route(s, "r", paths: ["/foo"])), "/foobar", ExpectRoute: "r", ExpectUpstreamPath: "/bar");
        yield return new("longest prefix wins", s => [Route(s, "short", paths: ["/foo"]), Route(s, "long", paths: ["/foo/bar"])],
            "/foo/bar/baz", ExpectRoute: "long", ExpectUpstreamPath: "/baz");
        yield return new("shorter prefix when longer misses", s => [Route(s, "short", paths: ["/foo"]), Route(s, "long", paths: ["/foo/bar"])],
            "/foo/x", ExpectRoute: "short", ExpectUpstreamPath: "/x");
        yield return new("no path matches", s => One(Route(s, "r", paths: ["/foo"])), "/other");
        yield return new("regex path", s => One(Route(s, "re", paths: [@"~/users/\d+$"])), "/users/42", ExpectRoute: "re", ExpectUpstreamPath: "/");
        yield return new("regex path mismatch", s => One(Route(s, "re", paths: [@"~/users/\d+$"])), "/users/abc");
        yield return new("regex is anchored at the start", s => One(Route(s, "re", paths: [@"~/users/\d+"])), "/api/users/42");
        yield return new("regex beats prefix", s => [Route(s, "prefix", paths: ["/users"]), Route(s, "regex", paths: [@"~/users/\d+"])],
            "/users/42", ExpectRoute: "regex");
        yield return new("prefix when regex misses", s => [Route(s, "prefix", paths: ["/users"]), Route(s, "regex", paths: [@"~/users/\d+"])],
            "/users/me", ExpectRoute: "prefix");
        yield return new("regex_priority", s => [Route(s, "low", paths: [@"~/v\d"]) with { RegexPriority = 1 }, Route(s, "high", paths: [@"~/v[0-9]"]) with { RegexPriority = 5 }],
            "/v1", ExpectRoute: "high");
        yield return new("regex strip_path removes the match", s => One(Route(s, "re", paths: [@"~/api/v\d+"])), "/api/v2/items", ExpectRoute: "re", ExpectUpstreamPath: "/items");
        // :: methods
        yield return new("method matches", s => One(Route(s, "m", paths: ["/m"], methods: ["GET"])), "/m", ExpectRoute: "m");
        yield return new("method mismatch", s => One(Route(s, "m", paths: ["/m"], methods: ["GET"])), "/m", Method: "POST");
        yield return new("method route beats path-only", s => [Route(s, "any", paths: ["/m"]), Route(s, "get", paths: ["/m"], methods: ["GET"])],
            "/m", ExpectRoute: "get");
        yield return new("path-only for other methods", s => [Route(s, "any", paths: ["/m"]), Route(s, "get", paths: ["/m"], methods: ["GET"])],
            "/m", Method: "DELETE", ExpectRoute: "any");
        // :: headers
        yield return new("header exact", s => One(Route(s, "h", headers: H("x-version", "v1"))), "/", Headers: [("X-Version", "v1")], ExpectRoute: "h");
        yield return new("header value ignores case", s => One(Route(s, "h", headers: H("x-version", "v1"))), "/", Headers: [("X-Version", "V1")], ExpectRoute: "h");
        yield return new("header mismatch", s => One(Route(s, "h", headers: H("x-version", "v1"))), "/", Headers: [("X-Version", "v2")]);
        yield return new("header missing", s => One(Route(s, "h", headers: H("x-version", "v1"))), "/");
        yield return new("header regex", s => One(Route(s, "h", headers: H("x-version", @"~*^v\d$"))), "/", Headers: [("X-Version", "V7")], ExpectRoute: "h");
        yield return new("header one of values", s => One(Route(s, "h", headers: H("x-version", "v1", "v2"))), "/", Headers: [("X-Version", "v2")], ExpectRoute: "h");
        yield return new("header route beats plain", s => [Route(s, "plain", paths: ["/h"]), Route(s, "hdr", paths: ["/h"], headers: H("x-env", "blue"))],
            "/h", Headers: [("X-Env", "blue")], ExpectRoute: "hdr");
        // :: priorities
        yield return new("host+path beats path", s => [Route(s, "path", paths: ["/p"]), Route(s, "hostpath", paths: ["/p"], hosts: ["h.test"])],
            "/p", "h.test", ExpectRoute: "hostpath");
        yield return new("more attributes beat a longer path", s => [Route(s, "longpath", paths: ["/long/path/x"]), Route(s, "host", paths: ["/long"], hosts: ["h.test"])],
            "/long/path/x", "h.test", ExpectRoute: "host");
        yield return new("creation order breaks ties", s =>
        {
            var first = Route(s, "first", paths: ["/same"]);
            var second = Route(s, "second", paths: ["/same"]);
            return [second, first];
        }, "/same", ExpectRoute: "first");
        // :: strip_path, path_handling, preserve_host
        yield return new("strip_path false keeps the path", s => One(Route(s, "r", paths: ["/foo"]) with { StripPath = false }),
            "/foo/bar", ExpectRoute: "r", ExpectUpstreamPath: "/foo/bar");
        yield return new("v0 strip joins with a slash", s => One(Route(s, "r", paths: ["/tv0"])), "/tv0req", ExpectRoute: "r", ExpectUpstreamPath: "/s/req", ServicePath: "/s");
        yield return new("v1 strip concatenates", s => One(Route(s, "r", paths: ["/tv1"]) with { PathHandling = "v1" }), "/tv1req", ExpectRoute: "r", ExpectUpstreamPath: "/sreq", ServicePath: "/s");
        yield return new("v0 no strip", s => One(Route(s, "r", paths: ["/fv0"]) with { StripPath = false }), "/fv0req", ExpectRoute: "r", ExpectUpstreamPath: "/s/fv0req", ServicePath: "/s");
        yield return new("v1 no strip", s => One(Route(s, "r", paths: ["/fv1"]) with { StripPath = false, PathHandling = "v1" }), "/fv1req", ExpectRoute: "r", ExpectUpstreamPath: "/sfv1req", ServicePath: "/s");
        yield return new("v0 service path with slash", s => One(Route(s, "r", paths: ["/tv0/"])), "/tv0/req", ExpectRoute: "r", ExpectUpstreamPath: "/s/req", ServicePath: "/s/");
        yield return new("v1 service path with slash", s => One(Route(s, "r", paths: ["/tv1/"]) with { PathHandling = "v1" }), "/tv1/req", ExpectRoute: "r", ExpectUpstreamPath: "/s/req", ServicePath: "/s/");
        yield return new("v0 keeps a trailing slash", s => One(Route(s, "r", paths: ["/foo"])), "/foo/", ExpectRoute: "r", ExpectUpstreamPath: "/s/", ServicePath: "/s");
        yield return new("v0 exact prefix gives the base", s => One(Route(s, "r", paths: ["/foo"])), "/foo", ExpectRoute: "r", ExpectUpstreamPath: "/s", ServicePath: "/s");
        yield return new("host-only route keeps the path", s => One(Route(s, "r", hosts: ["h.test"])), "/abc", "h.test", ExpectRoute: "r", ExpectUpstreamPath: "/s/abc", ServicePath: "/s");
        yield return new("preserve_host sends the client Host", s => One(Route(s, "r", hosts: ["keep.test"]) with { PreserveHost = true }),
            "/", "keep.test", ExpectRoute: "r", ExpectUpstreamHost: "keep.test");
        yield return new("without preserve_host the service host is sent", s => One(Route(s, "r", hosts: ["keep.test"])),
            "/", "keep.test", ExpectRoute: "r", ExpectUpstreamHost: "127.0.0.1:{port}");
    }
}
