using System.Text.RegularExpressions;
using Gatehouse.Model;

namespace Gatehouse.Routing;

/// <summary>
/// A route compiled for matching: parsed hosts, upper-case methods, prefix paths (longest first), compiled regexes
/// and header matchers. Immutable; built once per configuration snapshot.
/// </summary>
public sealed class CompiledRoute
{
    private readonly HostPattern[] _hosts;
    private readonly string[] _methods;
    private readonly string[] _prefixes;
    private readonly PathRegex[] _regexes;
    private readonly HeaderMatcher[] _headers;
    private readonly string[] _snis;
    private readonly bool _allowsPlain;

    public RouteModel Route { get; }
    public ServiceModel? Service { get; }
    public ulong Priority { get; }
    /// <summary>Position in the global order (priority, then created_at, then configuration order); lower wins.</summary>
    public int Rank { get; internal set; }
    /// <summary>Position of the route in its snapshot's <c>GatewayConfig.Routes</c> (-1 when compiled alone): lets the
    /// proxy find the route's plan and target by index (<c>ProxySnapshot.For</c>) instead of a dictionary lookup per request.</summary>
    public int ConfigIndex { get; }
    internal IReadOnlyList<HostPattern> Hosts => _hosts;
    internal IReadOnlyList<string> Prefixes => _prefixes;
    internal bool HasRegexOrNoPath => _regexes.Length > 0 || (_prefixes.Length == 0);

    /// <summary>The plain (not regex) paths, longest first: the route's own array when it is that already (most routes
    /// have one plain path; a copy per route was 3 MB of a 100,000-route configuration). Models are immutable, so the
    /// array is never changed under the router.</summary>
    private static string[] PrefixesOf(IReadOnlyList<string> paths)
    {
        if (paths is string[] own)
        {
            var reusable = true;
            for (var i = 0; i < own.Length && reusable; i++)
                reusable = !RoutePaths.IsRegex(own[i]) && (i == 0 || own[i - 1].Length >= own[i].Length);
            if (reusable) return own;
        }
        return paths.Where(p => !RoutePaths.IsRegex(p)).OrderByDescending(p => p.Length).ToArray();
    }

    /// <summary>Compiles a route; throws <see cref="FormatException"/> or <see cref="ArgumentException"/> when a host or
    /// regex is invalid.</summary>
    public CompiledRoute(RouteModel route, ServiceModel? service, int configIndex = -1)
    {
        ArgumentNullException.ThrowIfNull(route);
        Route = route;
        Service = service;
        ConfigIndex = configIndex;
        Priority = RoutePriority.Compute(route);
        _hosts = route.Hosts.Select(HostPattern.Parse).ToArray();
        _methods = route.Methods.Select(m => m.ToUpperInvariant()).ToArray();
        _prefixes = PrefixesOf(route.Paths);
        _regexes = route.Paths.Where(RoutePaths.IsRegex).Select(p => new PathRegex(p)).ToArray();
        _headers = route.Headers.Where(h => !h.Key.Equals("host", StringComparison.OrdinalIgnoreCase))
            .Select(h => new HeaderMatcher(h.Key, h.Value)).ToArray();
        _snis = route.Snis.Select(s => s.TrimEnd('.').ToLowerInvariant()).ToArray();
        _allowsPlain = route.Protocols.Contains("http") || route.Protocols.Contains("grpc");
    }

    /// <summary>Checks every attribute; on success <paramref name="hit"/> says which path matched (if the route has paths).</summary>
    internal bool TryMatch(in RouteRequest request, out PathHit hit)
    {
        hit = PathHit.NoPath;
        if (_methods.Length > 0 && Array.IndexOf(_methods, request.Method) < 0) return false;
        if (_hosts.Length > 0 && !MatchesHost(request)) return false;
        if (_snis.Length > 0 && !MatchesSni(request)) return false;
        foreach (var h in _headers)
            if (!h.Matches(request.Headers)) return false;
        if (_prefixes.Length == 0 && _regexes.Length == 0) return true;
        return TryMatchPath(request.Path, out hit);
    }

    private bool MatchesHost(in RouteRequest request)
    {
        foreach (var h in _hosts)
            if (h.Matches(request.Host, request.HostPort)) return true;
        return false;
    }

    /// <summary>Kong checks SNIs only on TLS requests; a plain request passes when the route also accepts http.</summary>
    private bool MatchesSni(in RouteRequest request)
    {
        if (!request.IsTls) return _allowsPlain;
        if (request.Sni is null) return false;
        var sni = request.Sni.TrimEnd('.');
        foreach (var s in _snis)
        {
            // traditional_compatible: "*.x" is a suffix match on ".x", "x.*" a prefix match on "x."
            var matched = s[0] == '*' ? sni.AsSpan().EndsWith(s.AsSpan(1), StringComparison.OrdinalIgnoreCase)
                : s[^1] == '*' ? sni.AsSpan().StartsWith(s.AsSpan(0, s.Length - 1), StringComparison.OrdinalIgnoreCase)
                : string.Equals(s, sni, StringComparison.OrdinalIgnoreCase);
            if (matched) return true;
        }
        return false;
    }

    private bool TryMatchPath(string path, out PathHit hit)
    {
        foreach (var p in _prefixes)
        {
            if (path.StartsWith(p, StringComparison.Ordinal))
            {
                hit = new PathHit(p.Length, null, null);
                return true;
            }
        }
        foreach (var r in _regexes)
        {
            var m = r.Regex.Match(path);
            if (m.Success)
            {
                hit = new PathHit(m.Length, r, m);
                return true;
            }
        }
        hit = PathHit.NoPath;
        return false;
    }
}
