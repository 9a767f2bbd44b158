using System.Collections.Frozen;
using Gatehouse.Model;

namespace Gatehouse.Proxy.Pipeline;

/// <summary>The phase plans of one snapshot: a global plan and one per route, built by the contributors.</summary>
public sealed class CompiledPipeline
{
    private readonly FrozenDictionary<Guid, PhasePlan> _byRoute;

    public PhasePlan Global { get; }

    private CompiledPipeline(PhasePlan global, FrozenDictionary<Guid, PhasePlan> byRoute)
    {
        Global = global;
        _byRoute = byRoute;
    }

    public static CompiledPipeline Empty { get; } = new(PhasePlan.Empty, FrozenDictionary<Guid, PhasePlan>.Empty);

    /// <summary>The plan for a matched route, or the global plan when none matched.</summary>
    public PhasePlan For(RouteModel? route) =>
        route is not null && _byRoute.TryGetValue(route.Id, out var plan) ? plan : Global;

    public static CompiledPipeline Compile(GatewayConfig config, IReadOnlyList<IPhasePlanContributor> contributors)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(contributors);
        if (contributors.Count == 0) return Empty;
        var services = config.Services.ToDictionary(s => s.Id);
        var global = Plan(config, null, null, contributors);
        var byRoute = new Dictionary<Guid, PhasePlan>(config.Routes.Length);
        foreach (var route in config.Routes)
        {
            var service = route.ServiceId is { } id && services.TryGetValue(id, out var s) ? s : null;
            byRoute[route.Id] = Plan(config, route, service, contributors);
        }
        return new CompiledPipeline(global, byRoute.ToFrozenDictionary());
    }

    private static PhasePlan Plan(GatewayConfig config, RouteModel? route, ServiceModel? service,
        IReadOnlyList<IPhasePlanContributor> contributors)
    {
        var builder = new PhasePlanBuilder();
        foreach (var c in contributors) c.Contribute(config, route, service, builder);
        return builder.Build();
    }
}
