using System.Runtime.CompilerServices;
using Gatehouse.Model;
using Gatehouse.Proxy.Pipeline;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Plugins;

/// <summary>
/// Adds the configured plugins to every plan, by priority (highest first) in each phase, before any contributor
/// registered later (Wasm filter chains). Instances are built once per configuration and shared by all routes.
/// The rewrite phase only has global plugins, as in Kong.
/// </summary>
public sealed class PluginPlanContributor : IPhasePlanContributor
{
    private readonly PluginCatalog _catalog;
    private readonly PluginServices _services;
    private readonly ILogger<PluginPlanContributor> _logger;
    private readonly ConditionalWeakTable<GatewayConfig, Compiled> _compiled = [];

    public PluginPlanContributor(PluginCatalog catalog, PluginServices services, ILogger<PluginPlanContributor> logger)
    {
        _catalog = catalog ?? throw new ArgumentNullException(nameof(catalog));
        _services = services ?? throw new ArgumentNullException(nameof(services));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    public void Contribute(GatewayConfig config, RouteModel? route, ServiceModel? service, PhasePlanBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(builder);
        // compiled even without plugins: the build tells the log sinks which ones the configuration still uses
        var compiled = _compiled.GetValue(config, Compile);
        if (config.Plugins.IsDefaultOrEmpty) return;
        var slots = new List<PluginSlot>();
        foreach (var plugin in _catalog.All)
        {
            if (!compiled.ByName.TryGetValue(plugin.Name, out var byScope)) continue;
            var candidates = Applicable(byScope, route?.Id, service?.Id)
                .Select(i => new PluginSlot.Candidate(
                    PluginSlot.Rank(i.Model.RouteId is not null, i.Model.ServiceId is not null, i.Model.ConsumerId is not null),
                    i.Model.ConsumerId, i.Handler, i.Model.Protocols.ToHashSet(StringComparer.Ordinal), i.Model.Id.ToString()))
                .ToList();
            if (candidates.Count > 0) slots.Add(new PluginSlot(plugin, candidates, slots.Count));
        }
        if (slots.Count == 0) return;
        if (route is null) Add(builder, slots, PluginPhases.Rewrite, s => new PluginRewriteStep(s));
        Add(builder, slots, PluginPhases.Access, s => new PluginAccessStep(s));
        builder.Add(DeferredHeadersStep.Instance);
        Add(builder, slots, PluginPhases.Header, s => new PluginHeaderStep(s));
        Add(builder, slots, PluginPhases.Body, s => new PluginBodyStep(s));
        Add(builder, slots, PluginPhases.Log, s => new PluginLogStep(s));
    }

    /// <summary>The instances whose route and service are unset or this route's and service's, in configuration
    /// order: four hash lookups, not a scan of every instance per route (which made a big config quadratic).</summary>
    private static IEnumerable<Instance> Applicable(Dictionary<(Guid?, Guid?), List<Instance>> byScope, Guid? route, Guid? service)
    {
        IEnumerable<Instance> found = byScope.GetValueOrDefault((null, null)) ?? [];
        if (route is not null) found = found.Concat(byScope.GetValueOrDefault((route, null)) ?? []);
        if (service is not null) found = found.Concat(byScope.GetValueOrDefault((null, service)) ?? []);
        if (route is not null && service is not null) found = found.Concat(byScope.GetValueOrDefault((route, service)) ?? []);
        return found.OrderBy(i => i.Order);
    }

    private static void Add(PhasePlanBuilder builder, List<PluginSlot> slots, PluginPhases phase, Func<PluginSlot, IPhaseHandler> step)
    {
        foreach (var slot in slots)
            if ((slot.Phases & phase) != 0) builder.Add(step(slot));
    }

    private Compiled Compile(GatewayConfig config)
    {
        var generation = _services.LogSinks.BeginGeneration();
        var spanGeneration = _services.SpanExporters.BeginGeneration();
        if (config.Plugins.IsDefaultOrEmpty)
        {
            _services.LogSinks.EndGeneration(generation);
            _services.SpanExporters.EndGeneration(spanGeneration);
            return new Compiled([]);
        }
        var consumers = new ConsumerIndex(config);
        var byName = new Dictionary<string, Dictionary<(Guid?, Guid?), List<Instance>>>(StringComparer.Ordinal);
        var order = 0;
        foreach (var model in config.Plugins)
        {
            order++;
            if (!model.Enabled || _catalog.Find(model.Name) is not { } plugin) continue;
            try
            {
                var handler = plugin.Create(model.Config, new PluginBuildContext(config, consumers, model, _services));
                var byScope = byName.TryGetValue(model.Name, out var scopes) ? scopes : byName[model.Name] = [];
                var scope = (model.RouteId, model.ServiceId);
                (byScope.TryGetValue(scope, out var list) ? list : byScope[scope] = []).Add(new Instance(model, handler, order));
            }
            catch (Exception e)
            {
                _logger.LogError(e, "plugin {Name} ({Id}) could not be built; it is skipped", model.Name, model.Id);
            }
        }
        _services.LogSinks.EndGeneration(generation);
        _services.SpanExporters.EndGeneration(spanGeneration);
        return new Compiled(byName);
    }

    private sealed record Instance(PluginModel Model, PluginHandler Handler, int Order);

    /// <summary>Per plugin name, the instances by their (route, service) scope.</summary>
    private sealed record Compiled(Dictionary<string, Dictionary<(Guid?, Guid?), List<Instance>>> ByName);
}
