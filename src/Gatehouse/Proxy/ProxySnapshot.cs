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

    public ProxySnapshot(GatewayConfig config, Router router, CompiledPipeline pipeline)
    {
        Config = config;
        Router = router;
        Pipeline = pipeline;
        _targets = config.Services.ToFrozenDictionary(s => s.Id, s => new UpstreamTarget(s));
    }

    public UpstreamTarget? Target(ServiceModel? service) =>
        service is not null && _targets.TryGetValue(service.Id, out var t) ? t : null;
}
