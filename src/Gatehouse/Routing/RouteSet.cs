namespace Gatehouse.Routing;

/// <summary>
/// The routes sharing one host key, indexed by path: plain prefixes in a dictionary per prefix length (probed for
/// each length present, longest first, without allocating), and the routes with a regex path or no path in one list.
/// Every list is sorted by rank, so the first full match in a list is that list's best.
/// </summary>
internal sealed class RouteSet
{
    private readonly Dictionary<string, CompiledRoute[]> _byPrefix;
    private readonly Dictionary<string, CompiledRoute[]>.AlternateLookup<ReadOnlySpan<char>> _prefixLookup;
    private readonly int[] _prefixLengths;
    private readonly CompiledRoute[] _others;

    public RouteSet(IEnumerable<CompiledRoute> routes)
    {
        var byPrefix = new Dictionary<string, List<CompiledRoute>>(StringComparer.Ordinal);
        var others = new List<CompiledRoute>();
        foreach (var r in routes)
        {
            foreach (var p in r.Prefixes.Distinct())
            {
                if (!byPrefix.TryGetValue(p, out var list)) byPrefix[p] = list = [];
                list.Add(r);
            }
            if (r.HasRegexOrNoPath) others.Add(r);
        }
        _byPrefix = byPrefix.ToDictionary(kv => kv.Key, kv => kv.Value.OrderBy(r => r.Rank).ToArray(), StringComparer.Ordinal);
        _prefixLookup = _byPrefix.GetAlternateLookup<ReadOnlySpan<char>>();
        _prefixLengths = _byPrefix.Keys.Select(k => k.Length).Distinct().OrderDescending().ToArray();
        _others = others.OrderBy(r => r.Rank).ToArray();
    }

    /// <summary>Improves <paramref name="best"/> with a better-ranked full match from this set, if any.</summary>
    public void FindBest(in RouteRequest request, ref CompiledRoute? best, ref PathHit bestHit)
    {
        var path = request.Path.AsSpan();
        foreach (var length in _prefixLengths)
        {
            if (length > path.Length) continue;
            if (_prefixLookup.TryGetValue(path[..length], out var candidates))
                Scan(candidates, request, ref best, ref bestHit);
        }
        Scan(_others, request, ref best, ref bestHit);
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
