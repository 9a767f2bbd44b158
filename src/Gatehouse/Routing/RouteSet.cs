namespace Gatehouse.Routing;

/// <summary>
/// The routes sharing one host key, indexed by path. Most host keys hold a few routes (with 100,000 routes each on
/// its own host, every set holds one): those keep their (prefix, route) pairs in one small array, scanned with
/// <c>StartsWith</c>, which is cheaper per request than a hash of the path and costs ~100 bytes instead of a
/// dictionary per set. Larger sets index plain prefixes in a dictionary per prefix length (probed for each length
/// present, longest first, without allocating). Routes with a regex path or no path are in one list. Every list is
/// sorted by rank, so the first full match in a list is that list's best.
/// </summary>
internal sealed class RouteSet
{
    /// <summary>Up to this many (prefix, route) pairs are scanned rather than hashed.</summary>
    internal const int ScanLimit = 8;

    private readonly string[] _smallPrefixes;
    private readonly CompiledRoute[] _smallRoutes;
    private readonly Dictionary<string, CompiledRoute[]>.AlternateLookup<ReadOnlySpan<char>> _prefixLookup;
    private readonly int[] _prefixLengths;
    private readonly CompiledRoute[] _others;

    public RouteSet(IReadOnlyList<CompiledRoute> routes)
    {
        var pairs = new List<(string Prefix, CompiledRoute Route)>();
        var others = new List<CompiledRoute>();
        foreach (var r in routes)
        {
            foreach (var p in r.Prefixes)
                if (!pairs.Contains((p, r))) pairs.Add((p, r));
            if (r.HasRegexOrNoPath) others.Add(r);
        }
        _others = [.. others.OrderBy(r => r.Rank)];
        if (pairs.Count <= ScanLimit)
        {
            // by rank, so a scan can stop at the first route that is not better than the best so far
            pairs.Sort((a, b) => a.Route.Rank.CompareTo(b.Route.Rank));
            // a set of one route (a host of its own, as in a configuration of a route per host) scans that route's own
            // prefixes rather than a copy of them (a copy per host was 3 MB of 100,000 routes); their order within one
            // route does not matter, its full match checks all of its paths
            _smallPrefixes = routes.Count == 1 && routes[0].Prefixes is string[] own && own.Length == pairs.Count
                ? own : [.. pairs.Select(p => p.Prefix)];
            _smallRoutes = [.. pairs.Select(p => p.Route)];
            _prefixLengths = [];
            return;
        }
        _smallPrefixes = [];
        _smallRoutes = [];
        var byPrefix = new Dictionary<string, CompiledRoute[]>(StringComparer.Ordinal);
        foreach (var group in pairs.GroupBy(p => p.Prefix, StringComparer.Ordinal))
            byPrefix[group.Key] = [.. group.Select(p => p.Route).OrderBy(r => r.Rank)];
        _prefixLookup = byPrefix.GetAlternateLookup<ReadOnlySpan<char>>();
        _prefixLengths = [.. byPrefix.Keys.Select(k => k.Length).Distinct().OrderDescending()];
    }

    /// <summary>Improves <paramref name="best"/> with a better-ranked full match from this set, if any.</summary>
    public void FindBest(in RouteRequest request, ref CompiledRoute? best, ref PathHit bestHit)
    {
        var path = request.Path;
        var small = _smallRoutes;
        for (var i = 0; i < small.Length; i++)
        {
            var route = small[i];
            if (best is not null && route.Rank >= best.Rank) break;
            if (path.StartsWith(_smallPrefixes[i], StringComparison.Ordinal) && route.TryMatch(request, out var hit))
            {
                best = route;
                bestHit = hit;
                break;
            }
        }
        if (_prefixLengths.Length > 0)
        {
            var span = path.AsSpan();
            foreach (var length in _prefixLengths)
            {
                if (length > span.Length) continue;
                if (_prefixLookup.TryGetValue(span[..length], out var candidates))
                    Scan(candidates, request, ref best, ref bestHit);
            }
        }
        if (_others.Length > 0) Scan(_others, request, ref best, ref bestHit);
    }

    private static void Scan(CompiledRoute[] candidates, in RouteRequest request, ref CompiledRoute? best, ref PathHit bestHit)
    {
        foreach (var route in candidates)
        {
            if (best is not null && route.Rank >= best.Rank) return;
            if (route.TryMatch(request, out var hit))
            {
                best = route;
                bestHit = hit;
                return;
            }
        }
    }
}
