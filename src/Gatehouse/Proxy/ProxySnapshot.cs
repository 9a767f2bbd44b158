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
    private readonly (RouteModel Route, UpstreamTarget? Target)[] _routeTargets;

    public ProxySnapshot(GatewayConfig config, Router router, CompiledPipeline pipeline)
    {
        Config = config;
        Router = router;
        Pipeline = pipeline;
        _targets = config.Services.ToFrozenDictionary(s => s.Id, s => new UpstreamTarget(s));
        _routeTargets = config.Routes.Select(r => (r, r.ServiceId is { } id ? _targets.GetValueOrDefault(id) : null)).ToArray();
    }

    /// <summary>The target of a matched route's service, by the route's position in <see cref="Config"/> (an array
    /// read on the hot path); falls back to the service lookup for a route compiled elsewhere.</summary>
    public UpstreamTarget? Target(CompiledRoute route) =>
        (uint)route.ConfigIndex < (uint)_routeTargets.Length && ReferenceEquals(_routeTargets[route.ConfigIndex].Route, route.Route)
            ? _routeTargets[route.ConfigIndex].Target
            : Target(route.Service);

    public UpstreamTarget? Target(ServiceModel? service) =>
        service is not null && _targets.TryGetValue(service.Id, out var t) ? t : null;
}
