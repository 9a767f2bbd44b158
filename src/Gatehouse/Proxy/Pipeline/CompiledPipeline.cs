using System.Collections.Frozen;
using Gatehouse.Model;

namespace Gatehouse.Proxy.Pipeline;

/// <summary>The phase plans of one snapshot: a global plan and one per route, built by the contributors.</summary>
public sealed class CompiledPipeline
{
    private readonly FrozenDictionary<Guid, PhasePlan> _byRoute;
    private readonly (RouteModel Route, PhasePlan Plan)[] _byIndex;

    public PhasePlan Global { get; }

    private CompiledPipeline(PhasePlan global, FrozenDictionary<Guid, PhasePlan> byRoute, (RouteModel, PhasePlan)[] byIndex)
    {
        Global = global;
        _byRoute = byRoute;
        _byIndex = byIndex;
    }

    public static CompiledPipeline Empty { get; } = new(PhasePlan.Empty, FrozenDictionary<Guid, PhasePlan>.Empty, []);

    /// <summary>The plan for a matched route, or the global plan when none matched.</summary>
    public PhasePlan For(RouteModel? route) =>
        route is not null && _byRoute.TryGetValue(route.Id, out var plan) ? plan : Global;

    /// <summary>The plan of the route at <paramref name="configIndex"/> in the compiled config's routes (the hot path:
    /// an array read, where a dictionary over 10,000 routes costs a cache miss or two per request).</summary>
    public PhasePlan For(int configIndex, RouteModel route) =>
        (uint)configIndex < (uint)_byIndex.Length && ReferenceEquals(_byIndex[configIndex].Route, route)
            ? _byIndex[configIndex].Plan
            : For(route);

    public static CompiledPipeline Compile(GatewayConfig config, IReadOnlyList<IPhasePlanContributor> contributors)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(contributors);
        if (contributors.Count == 0) return Empty;
        var services = config.Services.ToDictionary(s => s.Id);
        var global = Plan(config, null, null, contributors);
        var byRoute = new Dictionary<Guid, PhasePlan>();
        var byIndex = new (RouteModel, PhasePlan)[config.Routes.Length];
        for (var i = 0; i < config.Routes.Length; i++)
        {
            var route = config.Routes[i];
            var service = route.ServiceId is { } id && services.TryGetValue(id, out var s) ? s : null;
            var plan = Plan(config, route, service, contributors);
            byRoute[route.Id] = plan;
            byIndex[i] = (route, plan);
        }
        return new CompiledPipeline(global, byRoute.ToFrozenDictionary(), byIndex);
    }

    private static PhasePlan Plan(GatewayConfig config, RouteModel? route, ServiceModel? service,
        IReadOnlyList<IPhasePlanContributor> contributors)
    {
        var builder = new PhasePlanBuilder();
        foreach (var c in contributors) c.Contribute(config, route, service, builder);
        return builder.Build();
    }
}
