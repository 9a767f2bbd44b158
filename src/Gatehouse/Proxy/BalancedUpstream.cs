using System.Collections.Frozen;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gatehouse.Entities.Schemas;
using Gatehouse.Model;
using Gatehouse.Proxy.Balancing;
using Gatehouse.Proxy.Balancing.Health;
using Gatehouse.Proxy.Balancing.Dns;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy;

/// <summary>One target of an upstream as resolved when its snapshot was built: its addresses (the balancer's peers),
/// or none and the DNS error (Kong's <c>DNS_ERROR</c>). <see cref="DnsSource"/> is Kong's <c>dns</c> of the health
/// endpoint: the record type ("A", "AAAA"), "IP" for an address, or the resolver's error.</summary>
public sealed record ResolvedTarget(TargetModel Model, string Host, int Port, IReadOnlyList<BalancerPeer> Peers, string DnsSource)
{
    public bool Resolved => Peers.Count > 0;
}

/// <summary>Where one try of a request goes: a peer, with the destination prefix and Host header precomputed for
/// plain and TLS services (index 0: http, 1: https), so a pick allocates nothing.</summary>
public sealed class PeerEndpoint
{
    private readonly string[] _prefix;
    private readonly string[] _hostHeader;

    internal PeerEndpoint(BalancerPeer peer, string hostname, string? hostHeader)
    {
        Peer = peer;
        var address = peer.Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{peer.Address}]" : peer.Address.ToString();
        var port = peer.Port.ToString(CultureInfo.InvariantCulture);
        _prefix = [$"http://{address}:{port}", $"https://{address}:{port}"];
        // Kong's set_host_header: host_header or the target's name, plus the port unless it is the scheme's default;
        // a host_header that carries its own port is sent as it is (Kong would append a second one)
        var name = hostHeader ?? hostname;
        var hasPort = hostHeader is not null && TargetAddress.Parse(hostHeader)?.Port is not null;
        _hostHeader =
        [
            hasPort || peer.Port == 80 ? name : $"{name}:{port}",
            hasPort || peer.Port == 443 ? name : $"{name}:{port}",
        ];
    }

    public BalancerPeer Peer { get; }

    public string DestinationPrefix(bool tls) => _prefix[tls ? 1 : 0];

    public string HostHeader(bool tls) => _hostHeader[tls ? 1 : 0];

    /// <summary>The last upstream URI sent to this peer (requests of this snapshot).</summary>
    internal UpstreamUriCache UriCache { get; } = new();
}

/// <summary>
/// An upstream as one snapshot balances it: its targets' addresses (as the DNS cache answered when it was built, off
/// the request path), the balancer over them, and each peer's endpoint. A DNS change builds a new one
/// (<see cref="ProxySnapshotProvider"/>); a name that does not resolve leaves its target without peers.
/// </summary>
public sealed class BalancedUpstream
{
    private readonly FrozenDictionary<BalancerPeer, PeerEndpoint> _endpoints;

    private BalancedUpstream(UpstreamModel upstream, IReadOnlyList<ResolvedTarget> targets, IBalancer? balancer,
        FrozenDictionary<BalancerPeer, PeerEndpoint> endpoints, HealthChecker? checker)
    {
        Upstream = upstream;
        Checker = checker;
        Targets = targets;
        Balancer = balancer;
        _endpoints = endpoints;
        HashKeys = new HashKeySource(upstream);
    }

    /// <summary>Where the request's key comes from (hash_on / hash_fallback).</summary>
    public HashKeySource HashKeys { get; }

    public UpstreamModel Upstream { get; }
    /// <summary>Every target of the upstream, weight 0 and unresolved ones included (the health endpoints show them).</summary>
    public IReadOnlyList<ResolvedTarget> Targets { get; }
    /// <summary>Null when the balancer could not be built (an algorithm this build does not implement): every
    /// request answers 503.</summary>
    public IBalancer? Balancer { get; }
    /// <summary>The upstream's health checker (the balancer's health view, passive reports, Admin API, metrics);
    /// null when its health checks are off.</summary>
    public HealthChecker? Checker { get; }

    /// <summary>The endpoint for one try with the request's <paramref name="hashKey"/>, skipping the peers of earlier
    /// tries; null when no peer is available.</summary>
    public PeerEndpoint? Pick(string? hashKey, IReadOnlyCollection<BalancerPeer>? tried) =>
        Balancer?.Pick(hashKey, tried) is { } peer ? _endpoints[peer] : null;

    /// <summary>The host names (not IP addresses) the targets of <paramref name="config"/> name: what
    /// <see cref="BuildAll"/> looks up.</summary>
    public static IReadOnlySet<string> TargetNames(GatewayConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var target in config.Targets)
            if (TargetAddress.Parse(target.Target) is { Kind: AddressKind.Name } address) names.Add(address.Host);
        return names;
    }

    /// <summary>Builds the balancers of every upstream of <paramref name="config"/> over their targets' addresses as
    /// <paramref name="lookup"/> answers them now (the DNS cache's answers; null while a name's first lookup is under
    /// way: the target then has no peer until it lands). A balancer takes over the per-peer state (tries in flight,
    /// latencies) of the same upstream's in <paramref name="previous"/>. An upstream with health checks on gets its
    /// checker from <paramref name="checkers"/> as its health view (with the new peers); the others use
    /// <paramref name="health"/>.</summary>
    public static FrozenDictionary<string, BalancedUpstream> BuildAll(GatewayConfig config, Func<string, DnsResult?> lookup, IPeerHealth health,
        TimeProvider time, ILogger logger, FrozenDictionary<string, BalancedUpstream>? previous = null,
        UpstreamHealthCheckers? checkers = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Upstreams.IsDefaultOrEmpty) return FrozenDictionary<string, BalancedUpstream>.Empty;
        var targets = config.Targets.GroupBy(t => t.UpstreamId).ToDictionary(g => g.Key, g => g.ToList());
        var result = new Dictionary<string, BalancedUpstream>(StringComparer.Ordinal);
        foreach (var upstream in config.Upstreams)
        {
            var own = targets.TryGetValue(upstream.Id, out var list) ? list : [];
            var before = previous?.GetValueOrDefault(upstream.Name) is { } p && p.Upstream.Id == upstream.Id ? p.Balancer : null;
            result[upstream.Name] = Build(upstream, own, lookup, health, time, logger, before, checkers);
        }
        return result.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static BalancedUpstream Build(UpstreamModel upstream, List<TargetModel> targets, Func<string, DnsResult?> lookup,
        IPeerHealth health, TimeProvider time, ILogger logger, IBalancer? previous,
        UpstreamHealthCheckers? checkers)
    {
        var resolved = new List<ResolvedTarget>(targets.Count);
        var peers = new List<BalancerPeer>();
        var hostnames = new Dictionary<BalancerPeer, string>(ReferenceEqualityComparer.Instance);
        // Kong orders a target's history by creation; the balancer's order is the targets' order
        foreach (var target in targets.OrderBy(t => t.CreatedAt).ThenBy(t => t.Id))
        {
            var address = TargetAddress.Parse(target.Target);
            if (address is null) { resolved.Add(new(target, target.Target, 0, [], "invalid target")); continue; }
            var port = address.Port ?? TargetAddress.DefaultTargetPort;
            var host = address.Kind == AddressKind.IPv6 ? $"[{address.Host}]" : address.Host;
            BalancerPeer[] own;
            string source;
            if (address.Kind != AddressKind.Name)
            {
                own = [new BalancerPeer(target.Id.ToString(), target.Target, IPAddress.Parse(address.Host), port, target.Weight)];
                source = "IP";
            }
            else (own, source) = Peers(target, address.Host, port, lookup(address.Host));
            foreach (var p in own) hostnames[p] = host;
            peers.AddRange(own);
            resolved.Add(new(target, host, port, own, source));
        }
        var checker = checkers?.For(upstream, peers);
        IBalancer? balancer = null;
        try { balancer = BalancerFactory.Create(upstream.Algorithm, upstream.Slots, peers, checker ?? health, time, previous, upstream.HealthThreshold); }
        catch (Exception e) when (e is NotSupportedException or ArgumentException)
        {
            logger.LogError("upstream {Upstream}: {Reason}; its services answer 503", upstream.Name, e.Message);
        }
        var endpoints = peers.ToFrozenDictionary<BalancerPeer, BalancerPeer, PeerEndpoint>(p => p,
            p => new PeerEndpoint(p, hostnames[p], upstream.HostHeader), ReferenceEqualityComparer.Instance);
        return new BalancedUpstream(upstream, resolved, balancer, endpoints, checker);
    }

    /// <summary>A named target's peers from its DNS answer, as Kong's balancer makes them: from A/AAAA records, each
    /// address with the target's port and weight; from SRV records, only those of the best (lowest) priority, each
    /// with the record's port and weight (0 counts as 1). No answer (pending, name error, failure): no peer, and the
    /// health endpoint's <c>dns</c> says why (Kong's DNS_ERROR).</summary>
    private static (BalancerPeer[] Peers, string Source) Peers(TargetModel target, string host, int port, DnsResult? answer)
    {
        if (answer is null) return ([], "dns lookup pending");
        if (!answer.IsResolved)
            return ([], answer.Outcome == DnsOutcome.NotFound ? "dns server error: 3 name error" : "dns error: " + answer.Error);
        var srv = answer.Addresses.Any(a => a.Port is not null);
        var best = srv ? answer.Addresses.Min(a => a.Priority) : 0;
        var peers = answer.Addresses
            .Where(a => !srv || a.Priority == best)
            .Select(a => new BalancerPeer(target.Id.ToString(), target.Target, a.Address, a.Port ?? port,
                a.Port is null || target.Weight == 0 ? target.Weight : Math.Max(1, a.Weight)))
            .ToArray();
        var source = srv ? "SRV" : answer.Addresses[0].Address.AddressFamily == AddressFamily.InterNetworkV6 ? "AAAA" : "A";
        return (peers, source);
    }
}

/// <summary>Every peer may take traffic: what the balancers of upstreams with health checks off see.</summary>
public sealed class HealthChecksOff : IPeerHealth
{
    public static HealthChecksOff Instance { get; } = new();

    private HealthChecksOff() { }

    public bool IsHealthy(BalancerPeer peer) => true;
}
