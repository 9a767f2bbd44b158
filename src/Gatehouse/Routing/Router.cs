using System.Collections.Frozen;
using Gatehouse.Model;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Routing;

/// <summary>
/// The compiled, immutable router for one <see cref="GatewayConfig"/>. Routes are bucketed by host key: exact hosts in
/// a hash table, <c>*.suffix</c> and <c>prefix.*</c> wildcards in hash tables probed once per dot of the request host,
/// host-less routes in one set; each bucket scans its few plain prefixes or, when it has many, indexes them by length (<see cref="RouteSet"/>). Matching is
/// lock-free and its cost does not grow with the number of host or prefix routes; only regex routes sharing the
/// request's host bucket are scanned. The best match is the lowest <see cref="CompiledRoute.Rank"/>.
/// Routes whose service is disabled are left out, so they answer 404 as in Kong.
/// </summary>
public sealed class Router
{
    private readonly FrozenDictionary<string, RouteSet> _exact;
    private readonly Dictionary<string, RouteSet>.AlternateLookup<ReadOnlySpan<char>> _suffix;
    private readonly Dictionary<string, RouteSet>.AlternateLookup<ReadOnlySpan<char>> _prefix;
    private readonly bool _hasSuffix;
    private readonly bool _hasPrefix;
    private readonly RouteSet _anyHost;

    public static Router Empty { get; } = Build(GatewayConfig.Empty);

    /// <summary>Number of routes compiled (those skipped for errors or disabled services excluded).</summary>
    public int Count { get; }

    private Router(IReadOnlyList<CompiledRoute> routes)
    {
        Count = routes.Count;
        // sized for a host per route (the common shape of a large table): grown by doubling instead, a 100,000-route
        // table left ~10 MB of outgrown arrays in the large object heap, beside the configuration it replaces
        var exact = new Dictionary<string, List<CompiledRoute>>(routes.Count, StringComparer.Ordinal);
        var suffix = new Dictionary<string, List<CompiledRoute>>(StringComparer.Ordinal);
        var prefix = new Dictionary<string, List<CompiledRoute>>(StringComparer.Ordinal);
        var any = new List<CompiledRoute>();
        foreach (var r in routes)
        {
            if (r.Hosts.Count == 0) { any.Add(r); continue; }
            foreach (var h in r.Hosts.Select(h => (h.Kind, h.Key)).Distinct())
            {
                var table = h.Kind switch { HostPatternKind.Exact => exact, HostPatternKind.SuffixWildcard => suffix, _ => prefix };
                if (!table.TryGetValue(h.Key, out var list)) table[h.Key] = list = [];
                list.Add(r);
            }
        }
        _exact = exact.ToFrozenDictionary(kv => kv.Key, kv => new RouteSet(kv.Value), StringComparer.Ordinal);
        _suffix = suffix.ToDictionary(kv => kv.Key, kv => new RouteSet(kv.Value), StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        _prefix = prefix.ToDictionary(kv => kv.Key, kv => new RouteSet(kv.Value), StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        _hasSuffix = suffix.Count > 0;
        _hasPrefix = prefix.Count > 0;
        _anyHost = new RouteSet(any);
    }

    /// <summary>Compiles every route of <paramref name="config"/>; a route that fails to compile (bad or unsupported regex, bad host)
    /// is logged and left out rather than failing the whole snapshot.</summary>
    public static Router Build(GatewayConfig config, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var services = config.Services.ToDictionary(s => s.Id);
        var compiled = new List<(CompiledRoute Route, int Index)>(config.Routes.Length);
        for (var i = 0; i < config.Routes.Length; i++)
        {
            var route = config.Routes[i];
            ServiceModel? service = null;
            if (route.ServiceId is { } sid && services.TryGetValue(sid, out var s)) service = s;
            if (service is { Enabled: false }) continue;
            if (!route.Protocols.Any(p => p is "http" or "https" or "grpc" or "grpcs")) continue;
            try { compiled.Add((new CompiledRoute(route, service, i), i)); }
            catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException)
            {
                logger?.LogError("route {RouteId} skipped: {Error}", route.Id, e.Message);
            }
        }
        var ordered = compiled
            .OrderByDescending(c => c.Route.Priority)
            .ThenBy(c => c.Route.Route.CreatedAt)
            .ThenBy(c => c.Index)
            .Select(c => c.Route)
            .ToArray();
        for (var i = 0; i < ordered.Length; i++) ordered[i].Rank = i;
        return new Router(ordered);
    }

    /// <summary>Finds the best route for the request, or null (the proxy answers 404).</summary>
    public RouteMatch? Match(in RouteRequest request)
    {
        CompiledRoute? best = null;
        var hit = PathHit.NoPath;
        var host = request.Host;
        if (_exact.TryGetValue(host, out var set)) set.FindBest(request, ref best, ref hit);
        if (_hasSuffix)
        {
            // "*.example.com" is stored as ".example.com": probe each ".rest" with a non-empty label before it
            // (an empty Host, as HTTP/1.0 sends, has no such label)
            for (var i = host.Length > 1 ? host.IndexOf('.', 1) : -1; i > 0; i = host.IndexOf('.', i + 1))
                if (_suffix.TryGetValue(host.AsSpan(i), out set)) set.FindBest(request, ref best, ref hit);
        }
        if (_hasPrefix)
        {
            // "example.*" is stored as "example.": probe each "start." with a non-empty label after it
            for (var i = host.IndexOf('.'); i >= 0 && i < host.Length - 1; i = host.IndexOf('.', i + 1))
                if (_prefix.TryGetValue(host.AsSpan(0, i + 1), out set)) set.FindBest(request, ref best, ref hit);
        }
        _anyHost.FindBest(request, ref best, ref hit);
        return best is null ? null : CreateMatch(best, hit, request);
    }

    private static RouteMatch CreateMatch(CompiledRoute route, PathHit hit, in RouteRequest request)
    {
        var r = route.Route;
        // built from the normalised path and escaped once: the bytes sent upstream are what the route was chosen on
        var upstreamPath = UriNormalizer.Escape(
            UpstreamPathBuilder.Build(route.Service?.Path, request.Path, hit.Length, r.StripPath, r.PathHandling));
        return new RouteMatch
        {
            Route = route,
            UpstreamPath = upstreamPath,
            StrippedPrefix = r.StripPath && hit.HasPath ? request.Path[..hit.Length] : null,
            Captures = hit.Regex is not null && hit.Match is not null ? PathCaptures.From(hit.Regex, hit.Match) : PathCaptures.None,
        };
    }
}
