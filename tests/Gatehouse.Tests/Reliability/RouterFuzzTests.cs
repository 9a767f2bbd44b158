using System.Collections.Immutable;
using System.Text;
using System.Text.RegularExpressions;
using CsCheck;
using Gatehouse.Model;
using Gatehouse.Routing;
using Microsoft.AspNetCore.Http;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Reliability;

/// <summary>
/// Fuzz target: the router. Random route sets (prefix and regex paths with escapes, exact and wildcard hosts with
/// ports, methods, headers, SNIs, strip_path and path_handling, disabled services) and requests derived from those
/// routes, then perturbed (extra segments, escapes, case, ports, missing headers). Properties: building and matching
/// never throw; matching is deterministic (twice on one router, and on a second router built from the same
/// config); the matched route's methods, hosts, headers and paths admit the request (checked here, independently of
/// the router's code); the host and prefix indexes miss nothing (no match only when no single route admits the
/// request); the upstream path is absolute.
/// </summary>
public sealed class RouterFuzzTests(ITestOutputHelper output)
{
    public sealed record Input(GatewayConfig Config, RouteRequest[] Requests)
    {
        public override string ToString()
        {
            var sb = new StringBuilder();
            foreach (var r in Config.Routes)
                sb.Append($"route {r.Name}: paths=[{string.Join(",", r.Paths)}] hosts=[{string.Join(",", r.Hosts)}] methods=[{string.Join(",", r.Methods)}] headers={{{string.Join(";", r.Headers.Select(h => h.Key + ":" + string.Join(",", h.Value)))}}} strip={r.StripPath} handling={r.PathHandling} prio={r.RegexPriority}\n");
            foreach (var q in Requests)
                sb.Append($"request {q.Method} host={q.Host}:{q.HostPort} path={q.Path} headers={{{string.Join(";", q.Headers.Select(h => h.Key + ":" + h.Value))}}}\n");
            return sb.ToString();
        }
    }

    private static readonly Gen<Input> Inputs = Gen.Int.Select(seed =>
    {
        var r = new Random(seed);
        var services = Enumerable.Range(0, r.Next(1, 4)).Select(i => new ServiceModel
        {
            Id = Guid.NewGuid(), Name = "s" + i, Host = "127.0.0.1", Port = 1,
            Path = r.Next(3) == 0 ? KongShapes.Path(r, 2) : null, Enabled = r.Next(8) > 0,
        }).ToArray();
        var routes = Enumerable.Range(0, r.Next(1, 30)).Select(i => new RouteModel
        {
            Id = Guid.NewGuid(),
            Name = "r" + i,
            ServiceId = services[r.Next(services.Length)].Id,
            Paths = Many(r, 3, r => r.Next(5) == 0 ? KongShapes.Regex(r) : KongShapes.Path(r, 3)),
            Hosts = Many(r, 2, r => KongShapes.Host(r) + (r.Next(6) == 0 ? ":" + r.Next(1, 9000) : "")),
            Methods = Many(r, 2, r => KongShapes.Methods[r.Next(KongShapes.Methods.Length)]),
            Headers = r.Next(4) == 0
                ? Enumerable.Range(0, r.Next(1, 3)).ToDictionary(h => "x-h" + h, h => (IReadOnlyList<string>)Many(r, 2, KongShapes.Word).DefaultIfEmpty("v").ToArray())
                : new Dictionary<string, IReadOnlyList<string>>(),
            Snis = r.Next(10) == 0 ? [r.Next(3) == 0 ? "*.h" + r.Next(3) + ".test" : "h" + r.Next(20) + ".test"] : [], // the schema refuses empty SNIs
            Protocols = r.Next(10) == 0 ? ["https"] : ["http", "https"],
            StripPath = r.Next(2) == 0,
            PathHandling = r.Next(2) == 0 ? "v0" : "v1",
            RegexPriority = r.Next(-2, 3),
            CreatedAt = 1_700_000_000 + r.Next(5),
        }).ToArray();
        var config = new GatewayConfig { Services = [.. services], Routes = [.. routes] };
        var requests = Enumerable.Range(0, r.Next(1, 12)).Select(_ => Request(r, routes[r.Next(routes.Length)])).ToArray();
        return new Input(config, requests);
    });

    private static string[] Many(Random r, int max, Func<Random, string> item) => [.. Enumerable.Range(0, r.Next(max + 1)).Select(_ => item(r))];

    /// <summary>A request aimed at <paramref name="route"/>, then perturbed.</summary>
    private static RouteRequest Request(Random r, RouteModel route)
    {
        var path = route.Paths.Count > 0 && r.Next(4) > 0 ? route.Paths[r.Next(route.Paths.Count)] : KongShapes.Path(r);
        if (path.StartsWith('~')) path = KongShapes.Path(r);
        if (r.Next(2) == 0) path = path.TrimEnd('/') + KongShapes.Path(r, 2);
        if (r.Next(8) == 0) path = path.ToUpperInvariant();
        var host = route.Hosts.Count > 0 && r.Next(4) > 0 ? route.Hosts[r.Next(route.Hosts.Count)] : KongShapes.Host(r);
        host = host.Replace("*", r.Next(2) == 0 ? "w" + r.Next(3) : "a.b");
        if (r.Next(5) == 0) host += ":" + r.Next(1, 9000);
        var method = route.Methods.Count > 0 && r.Next(4) > 0 ? route.Methods[r.Next(route.Methods.Count)] : KongShapes.Methods[r.Next(KongShapes.Methods.Length)];
        var headers = new HeaderDictionary();
        foreach (var (name, values) in route.Headers)
            if (r.Next(4) > 0) headers[r.Next(4) == 0 ? name.ToUpperInvariant() : name] = values.Count > 0 && r.Next(4) > 0 ? values[r.Next(values.Count)] : KongShapes.Word(r);
        var (h, port) = RouteRequest.SplitHost(host);
        var tls = r.Next(4) == 0;
        return new RouteRequest(method.ToUpperInvariant(), h, port, path, headers, tls && r.Next(2) == 0 ? KongShapes.Host(r) : null, tls);
    }

    [Fact]
    public void Router_holds_its_properties()
    {
        new FuzzRun<Input>("router", Inputs, i => i.ToString(), output)
        {
            MemoryBudget = i => 32L << 20,
        }.Run(Check);
    }

    private static void Check(Input input)
    {
        var router = Router.Build(input.Config);
        var again = Router.Build(input.Config);
        var services = input.Config.Services.ToDictionary(s => s.Id);
        var compiled = new List<CompiledRoute>();
        foreach (var route in input.Config.Routes)
        {
            var service = services[route.ServiceId!.Value];
            if (!service.Enabled) continue;
            try { compiled.Add(new CompiledRoute(route, service)); }
            catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException) { }
        }
        if (router.Count != compiled.Count) throw new PropertyFailure("router compiled another number of routes", $"{router.Count} vs {compiled.Count}");
        foreach (var request in input.Requests)
        {
            var match = router.Match(request);
            var second = router.Match(request);
            var other = again.Match(request);
            if (match?.Route.Route.Id != second?.Route.Route.Id || match?.Route.Route.Id != other?.Route.Route.Id)
                throw new PropertyFailure("matching is not deterministic");
            var admitting = compiled.Where(c => c.TryMatch(request, out _)).ToList();
            if (match is null)
            {
                if (admitting.Count > 0) throw new PropertyFailure("no match although a route admits the request", admitting[0].Route.Name);
                continue;
            }
            if (match.UpstreamPath != second!.UpstreamPath) throw new PropertyFailure("upstream path is not deterministic");
            if (!match.UpstreamPath.StartsWith('/')) throw new PropertyFailure("upstream path is not absolute", match.UpstreamPath);
            Admits(match.Route.Route, request);
        }
    }

    /// <summary>The route's own attributes admit the request (an oracle written apart from the router).</summary>
    private static void Admits(RouteModel route, RouteRequest request)
    {
        if (route.Methods.Count > 0 && !route.Methods.Any(m => m.Equals(request.Method, StringComparison.OrdinalIgnoreCase)))
            throw new PropertyFailure("matched route does not allow the method");
        if (route.Hosts.Count > 0 && !route.Hosts.Any(h => HostAdmits(h, request)))
            throw new PropertyFailure("matched route does not allow the host");
        foreach (var (name, values) in route.Headers)
        {
            if (name.Equals("host", StringComparison.OrdinalIgnoreCase)) continue;
            if (!request.Headers.TryGetValue(name, out var got) || !got.Any(v => values.Any(w => w.Equals(v, StringComparison.OrdinalIgnoreCase))))
                throw new PropertyFailure("matched route's header is absent or has another value");
        }
        if (route.Paths.Count == 0) return;
        var pathOk = route.Paths.Any(p => p.StartsWith('~')
            ? SafeRegex(p[1..], request.Path)
            : request.Path.StartsWith(p, StringComparison.Ordinal));
        if (!pathOk) throw new PropertyFailure("matched route has no path admitting the request path");
    }

    /// <summary>Kong's regex path semantics: the pattern on its own, anchored at the start of the path.</summary>
    private static bool SafeRegex(string pattern, string path)
    {
        try
        {
            _ = new Regex(pattern);
            return Regex.IsMatch(path, "^(?:" + pattern + ")", RegexOptions.None, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException) { return false; }
    }

    private static bool HostAdmits(string pattern, RouteRequest request)
    {
        var (host, port) = RouteRequest.SplitHost(pattern);
        if (port is { } p && request.HostPort != p) return false;
        if (host.StartsWith("*.", StringComparison.Ordinal)) return request.Host.EndsWith(host[1..], StringComparison.Ordinal) && request.Host.Length > host.Length - 1;
        if (host.EndsWith(".*", StringComparison.Ordinal)) return request.Host.StartsWith(host[..^1], StringComparison.Ordinal) && request.Host.Length > host.Length - 1;
        return host == request.Host;
    }
}
