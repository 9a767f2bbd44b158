using System.Collections.Frozen;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gatehouse.Entities.Schemas;
using Gatehouse.Model;
using Gatehouse.Proxy.Balancing;
using Gatehouse.Proxy.Balancing.Health;
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
}

/// <summary>
/// An upstream as one snapshot balances it: its targets resolved (once, when the snapshot is built, off the request
/// path), the balancer over their addresses, and each peer's endpoint. Names are resolved again with every
/// configuration change (there is no TTL cache yet); a name that does not resolve leaves its target out.
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

    /// <summary>Resolves the targets of every upstream of <paramref name="config"/> and builds their balancers; a
    /// balancer takes over the per-peer state (tries in flight, latencies) of the same upstream's in
    /// <paramref name="previous"/>. An upstream with health checks on gets its checker from <paramref name="checkers"/>
    /// as its health view; the others use <paramref name="health"/>.</summary>
    public static FrozenDictionary<string, BalancedUpstream> BuildAll(GatewayConfig config, HostResolver resolve, IPeerHealth health,
        TimeProvider time, ILogger logger, FrozenDictionary<string, BalancedUpstream>? previous = null,
        UpstreamHealthCheckers? checkers = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Upstreams.IsDefaultOrEmpty) return FrozenDictionary<string, BalancedUpstream>.Empty;
        var targets = config.Targets.GroupBy(t => t.UpstreamId).ToDictionary(g => g.Key, g => g.ToList());
        var names = new Dictionary<string, ResolvedName>(StringComparer.OrdinalIgnoreCase); // one lookup per name per build
        var result = new Dictionary<string, BalancedUpstream>(StringComparer.Ordinal);
        foreach (var upstream in config.Upstreams)
        {
            var own = targets.TryGetValue(upstream.Id, out var list) ? list : [];
            var before = previous?.GetValueOrDefault(upstream.Name) is { } p && p.Upstream.Id == upstream.Id ? p.Balancer : null;
            result[upstream.Name] = Build(upstream, own, names, resolve, health, time, logger, before, checkers);
        }
        return result.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static BalancedUpstream Build(UpstreamModel upstream, List<TargetModel> targets, Dictionary<string, ResolvedName> names,
        HostResolver resolve, IPeerHealth health, TimeProvider time, ILogger logger, IBalancer? previous,
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
            ResolvedName name;
            if (address.Kind != AddressKind.Name) name = new([IPAddress.Parse(address.Host)], "IP");
            else if (!names.TryGetValue(address.Host, out name!)) names[address.Host] = name = Resolve(address.Host, resolve, logger);
            var own = name.Addresses.Select(a => new BalancerPeer(target.Id.ToString(), target.Target, a, port, target.Weight)).ToArray();
            foreach (var p in own) hostnames[p] = address.Kind == AddressKind.IPv6 ? $"[{address.Host}]" : address.Host;
            peers.AddRange(own);
            resolved.Add(new(target, address.Kind == AddressKind.IPv6 ? $"[{address.Host}]" : address.Host, port, own, name.Source));
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

    private sealed record ResolvedName(IReadOnlyList<IPAddress> Addresses, string Source);

    /// <summary>A name's addresses: the IPv4 ones, or the IPv6 ones when there is no IPv4 address (Kong's default
    /// <c>dns_order</c>, LAST,SRV,A,CNAME, asks for no AAAA; SRV records are not looked up here). /etc/hosts is
    /// honoured by the OS resolver.</summary>
    private static ResolvedName Resolve(string host, HostResolver resolve, ILogger logger)
    {
        try
        {
            var all = resolve(host);
            var v4 = all.Where(a => a.AddressFamily == AddressFamily.InterNetwork).ToArray();
            if (v4.Length > 0) return new(v4, "A");
            var v6 = all.Where(a => a.AddressFamily == AddressFamily.InterNetworkV6).ToArray();
            if (v6.Length > 0) return new(v6, "AAAA");
            logger.LogWarning("target host {Host} resolved to no address; the target takes no traffic", host);
            return new([], "dns client error: 101 empty record received");
        }
        catch (SocketException e)
        {
            logger.LogWarning("target host {Host} does not resolve ({Error}); the target takes no traffic", host, e.SocketErrorCode);
            return new([], e.SocketErrorCode == SocketError.HostNotFound ? "dns server error: 3 name error" : "dns error: " + e.Message);
        }
        catch (ArgumentException e)
        {
            logger.LogWarning("target host {Host} cannot be resolved ({Error}); the target takes no traffic", host, e.Message);
            return new([], "dns error: " + e.Message);
        }
    }
}

/// <summary>Resolves a host name to its addresses (the OS resolver, <see cref="Dns.GetHostAddresses(string)"/>, in
/// production; tests substitute their own).</summary>
public delegate IReadOnlyList<IPAddress> HostResolver(string host);

/// <summary>Every peer may take traffic: what the balancers of upstreams with health checks off see.</summary>
public sealed class HealthChecksOff : IPeerHealth
{
    public static HealthChecksOff Instance { get; } = new();

    private HealthChecksOff() { }

    public bool IsHealthy(BalancerPeer peer) => true;
}
