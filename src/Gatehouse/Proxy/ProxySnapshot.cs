using System.Collections.Frozen;
using Gatehouse.Model;
using Gatehouse.Proxy.Pipeline;
using Gatehouse.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Proxy;

/// <summary>Everything the proxy needs for one <see cref="GatewayConfig"/>: router, phase plans and upstream
/// targets. Immutable; a request reads <see cref="ProxySnapshotProvider.Current"/> once and uses that snapshot
/// to the end, so a configuration swap never changes a request mid-flight.</summary>
public sealed class ProxySnapshot
{
    public GatewayConfig Config { get; }
    public Router Router { get; }
    public CompiledPipeline Pipeline { get; }
    /// <summary>An enabled opentelemetry plugin exists: requests record their spans (<see cref="Tracing.RequestTrace"/>).</summary>
    public bool TracesRequests { get; }
    private readonly FrozenDictionary<Guid, UpstreamTarget> _targets;
    // plan and target per route, in Config.Routes order: a matched route finds both with one array read (dictionary
    // lookups over 10,000 routes cost a cache miss or two per request, bench/NOTES.md)
    private readonly (RouteModel Route, PhasePlan Plan, UpstreamTarget? Target)[] _byRouteIndex;

    /// <param name="upstreams">the balanced upstreams by name (<see cref="BalancedUpstream.BuildAll"/>); a service
    /// whose host names one balances over its targets</param>
    /// <param name="connector">gives each TLS service the invoker of its <see cref="UpstreamTlsProfile"/>; null: every
    /// service uses the shared one</param>
    public ProxySnapshot(GatewayConfig config, Router router, CompiledPipeline pipeline,
        FrozenDictionary<string, BalancedUpstream>? upstreams = null, UpstreamConnector? connector = null, ILogger? logger = null)
    {
        Config = config;
        Router = router;
        Pipeline = pipeline;
        Upstreams = upstreams ?? FrozenDictionary<string, BalancedUpstream>.Empty;
        TracesRequests = !config.Plugins.IsDefaultOrEmpty && config.Plugins.Any(p => p.Enabled && p.Name == Tracing.TracingPlugin.Name);
        var profiles = new HashSet<UpstreamTlsProfile>();
        Func<ServiceModel, BalancedUpstream?, HttpMessageInvoker?> invokerOf = (_, _) => null;
        if (connector is not null)
        {
            var certificates = config.Certificates.ToDictionary(c => c.Id);
            var caCertificates = config.CaCertificates.ToDictionary(c => c.Id);
            invokerOf = (service, upstream) =>
            {
                var profile = UpstreamTlsProfile.For(service, upstream?.Upstream, connector.Defaults,
                    certificates.GetValueOrDefault, caCertificates.GetValueOrDefault, logger ?? NullLogger.Instance);
                if (profile == UpstreamTlsProfile.None) return null;
                profiles.Add(profile);
                return connector.For(profile);
            };
        }
        _targets = config.Services.ToFrozenDictionary(s => s.Id, s =>
        {
            var upstream = Upstreams.GetValueOrDefault(s.Host);
            return new UpstreamTarget(s, upstream, invokerOf(s, upstream));
        });
        TlsProfiles = profiles;
        _byRouteIndex = config.Routes
            .Select(r => (r, pipeline.For(r), r.ServiceId is { } id ? _targets.GetValueOrDefault(id) : null))
            .ToArray();
    }

    /// <summary>The upstream TLS profiles this snapshot's services use (other than <see cref="UpstreamTlsProfile.None"/>).</summary>
    public IReadOnlySet<UpstreamTlsProfile> TlsProfiles { get; }

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
