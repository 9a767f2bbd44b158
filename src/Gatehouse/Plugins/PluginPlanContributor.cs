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
        if (config.Plugins.IsDefaultOrEmpty) return;
        var compiled = _compiled.GetValue(config, Compile);
        var slots = new List<PluginSlot>();
        foreach (var plugin in _catalog.All)
        {
            if (!compiled.ByName.TryGetValue(plugin.Name, out var instances)) continue;
            var candidates = instances
                .Where(i => (i.Model.RouteId is null || i.Model.RouteId == route?.Id)
                    && (i.Model.ServiceId is null || (service is not null && i.Model.ServiceId == service.Id)))
                .Select(i => new PluginSlot.Candidate(
                    PluginSlot.Rank(i.Model.RouteId is not null, i.Model.ServiceId is not null, i.Model.ConsumerId is not null),
                    i.Model.ConsumerId, i.Handler, i.Model.Protocols.ToHashSet(StringComparer.Ordinal)))
                .ToList();
            if (candidates.Count > 0) slots.Add(new PluginSlot(plugin, candidates));
        }
        if (slots.Count == 0) return;
        if (route is null) Add(builder, slots, PluginPhases.Rewrite, s => new PluginRewriteStep(s));
        Add(builder, slots, PluginPhases.Access, s => new PluginAccessStep(s));
        builder.Add(DeferredHeadersStep.Instance);
        Add(builder, slots, PluginPhases.Header, s => new PluginHeaderStep(s));
        Add(builder, slots, PluginPhases.Body, s => new PluginBodyStep(s));
        Add(builder, slots, PluginPhases.Log, s => new PluginLogStep(s));
    }

    private static void Add(PhasePlanBuilder builder, List<PluginSlot> slots, PluginPhases phase, Func<PluginSlot, IPhaseHandler> step)
    {
        foreach (var slot in slots)
            if ((slot.Phases & phase) != 0) builder.Add(step(slot));
    }

    private Compiled Compile(GatewayConfig config)
    {
        var consumers = new ConsumerIndex(config);
        var byName = new Dictionary<string, List<Instance>>(StringComparer.Ordinal);
        foreach (var model in config.Plugins)
        {
            if (!model.Enabled || _catalog.Find(model.Name) is not { } plugin) continue;
            try
            {
                var handler = plugin.Create(model.Config, new PluginBuildContext(config, consumers, model, _services));
                (byName.TryGetValue(model.Name, out var list) ? list : byName[model.Name] = []).Add(new Instance(model, handler));
            }
            catch (Exception e)
            {
                _logger.LogError(e, "plugin {Name} ({Id}) could not be built; it is skipped", model.Name, model.Id);
            }
        }
        return new Compiled(byName);
    }

    private sealed record Instance(PluginModel Model, PluginHandler Handler);

    private sealed record Compiled(Dictionary<string, List<Instance>> ByName);
}
