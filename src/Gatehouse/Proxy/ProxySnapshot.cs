using System.Collections.Frozen;
using Gatehouse.Model;
using Gatehouse.Proxy.Pipeline;
using Gatehouse.Routing;

namespace Gatehouse.Proxy;

/// <summary>Everything the proxy needs for one <see cref="GatewayConfig"/>: router, phase plans and upstream
/// targets. Immutable; a request reads <see cref="ProxySnapshotProvider.Current"/> once and uses that snapshot
/// to the end, so a configuration swap never changes a request mid-flight.</summary>
public sealed class ProxySnapshot
{
    public GatewayConfig Config { get; }
    public Router Router { get; }
    public CompiledPipeline Pipeline { get; }
    private readonly FrozenDictionary<Guid, UpstreamTarget> _targets;
    // plan and target per route, in Config.Routes order: a matched route finds both with one array read (dictionary
    // lookups over 10,000 routes cost a cache miss or two per request, bench/NOTES.md)
    private readonly (RouteModel Route, PhasePlan Plan, UpstreamTarget? Target)[] _byRouteIndex;

    /// <param name="upstreams">the balanced upstreams by name (<see cref="BalancedUpstream.BuildAll"/>); a service
    /// whose host names one balances over its targets</param>
    public ProxySnapshot(GatewayConfig config, Router router, CompiledPipeline pipeline,
        FrozenDictionary<string, BalancedUpstream>? upstreams = null)
    {
        Config = config;
        Router = router;
        Pipeline = pipeline;
        Upstreams = upstreams ?? FrozenDictionary<string, BalancedUpstream>.Empty;
        _targets = config.Services.ToFrozenDictionary(s => s.Id, s => new UpstreamTarget(s, Upstreams.GetValueOrDefault(s.Host)));
        _byRouteIndex = config.Routes
            .Select(r => (r, pipeline.For(r), r.ServiceId is { } id ? _targets.GetValueOrDefault(id) : null))
            .ToArray();
    }

    /// <summary>The upstreams of <see cref="Config"/> as this snapshot balances them, by name.</summary>
    public FrozenDictionary<string, BalancedUpstream> Upstreams { get; }

    public UpstreamTarget? Target(ServiceModel? service) =>
        service is not null && _targets.TryGetValue(service.Id, out var t) ? t : null;

    /// <summary>The phase plan and upstream target of a matched route, by its position in <see cref="Config"/>; by id
    /// for a route compiled from another configuration.</summary>
    public (PhasePlan Plan, UpstreamTarget? Target) For(CompiledRoute route)
    {
        var i = route.ConfigIndex;
        if ((uint)i < (uint)_byRouteIndex.Length && ReferenceEquals(_byRouteIndex[i].Route, route.Route))
            return (_byRouteIndex[i].Plan, _byRouteIndex[i].Target);
        return (Pipeline.For(route.Route), Target(route.Service));
    }
}
