using Gatehouse.Entities.Schemas;
using Gatehouse.Model;
using Gatehouse.Proxy.Pipeline;
using Microsoft.Extensions.Logging;
using ProxyWasm.Runtime;

namespace Gatehouse.Wasm;

/// <summary>
/// Adds a route's effective filter chain to its phase plan (Kong §5.1): the service chain's filters, then the
/// route chain's; disabled chains and filters dropped; duplicates each with their own config. Registered after
/// the plugin contributors so filters run after plugins in every phase. Running entries are shared between
/// snapshots through <see cref="FilterPluginCache"/>; a chain that cannot be built (config rejected in
/// configure, possible only when write-time validation was bypassed) keeps the route's previous chain (Kong's
/// "last good state wins") or, without one, answers 500.
/// </summary>
internal sealed class FilterChainPlanContributor(WasmFilterRuntime runtime, WasmGatewayLimits limits, ILoggerFactory loggerFactory,
    ProxyWasm.Runtime.LogRateLimiter logLimiter) : IPhasePlanContributor
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<FilterChainPlanContributor>();

    public void Contribute(GatewayConfig config, RouteModel? route, ServiceModel? service, PhasePlanBuilder builder)
    {
        if (route is null || runtime.Plugins is not { } plugins) return;
        if (config.FilterChains.IsDefaultOrEmpty && config.Plugins.IsDefaultOrEmpty) return;
        var entries = EffectiveEntries(config, route, service, runtime.Catalog);
        if (entries.Count == 0) return;
        IReadOnlyList<SharedFilterPlugin> chain;
        var origins = new List<FilterEntryOrigin>(entries.Count);
        try
        {
            var built = new List<SharedFilterPlugin>(entries.Count);
            foreach (var (entry, origin) in entries)
            {
                if (!runtime.Modules.ContainsKey(entry.Name)) continue;
                built.Add(plugins.Get(entry.Name, entry.Configuration, config.Version));
                origins.Add(origin);
            }
            plugins.RecordGood(route.Id, built);
            chain = built;
        }
        catch (FilterConfigurationException e)
        {
            // Kong §5.4: the previous state stays active; without one (first build) the route answers 500
            var label = service is null ? $"route({route.Id})" : $"combined service({service.Id}), route({route.Id})";
            if (plugins.KeepLastGood(route.Id) is { } lastGood)
            {
                WasmLog.ChainStale(_logger, label, e.Message);
                chain = lastGood;
                origins.Clear(); // the last good chain's entries: their origins are not known any more
            }
            else
            {
                WasmLog.ChainFailed(_logger, label, e.Message);
                builder.Add(new FailedChainHandler());
                return;
            }
        }
        var states = new WasmRequestStatePool(chain.Count);
        for (var i = 0; i < chain.Count; i++)
        {
            var entry = new FilterEntryHandler(chain, i, limits, _logger, logLimiter, origins, states);
            builder.Add(entry);
            var module = chain[i].Plugin.Module;
            if (module.ExportsRequestBody) builder.Add(new FilterRequestBodyHandler(entry));
            if (module.ExportsResponseBody) builder.Add(new FilterResponseBodyHandler(entry));
            if (module.ExportsRequestTrailers) builder.Add(new FilterRequestTrailersHandler(entry));
            if (module.ExportsResponseTrailers) builder.Add(new FilterResponseTrailersHandler(entry));
        }
    }

    /// <summary>Service chain filters then route chain filters, enabled ones only. Each scope's enabled filter
    /// plugins (Kong 3.9 §5.5 step 4) are appended to that scope's chain, sorted as Kong master (#13946): name,
    /// updated_at, created_at, id; they apply even where the scope has no chain entity.</summary>
    public static List<FilterEntryModel> EffectiveFilters(GatewayConfig config, RouteModel route, ServiceModel? service, WasmFilterCatalog? filters = null) =>
        EffectiveEntries(config, route, service, filters).ConvertAll(e => e.Entry);

    /// <summary><see cref="EffectiveFilters"/> with where each entry comes from (the traces' chain attributes).</summary>
    internal static List<(FilterEntryModel Entry, FilterEntryOrigin Origin)> EffectiveEntries(GatewayConfig config, RouteModel route,
        ServiceModel? service, WasmFilterCatalog? filters = null)
    {
        var result = new List<(FilterEntryModel, FilterEntryOrigin)>();
        FilterChainModel? serviceChain = null, routeChain = null;
        foreach (var chain in config.FilterChains)
        {
            if (service is not null && chain.ServiceId == service.Id) serviceChain = chain;
            else if (chain.RouteId == route.Id) routeChain = chain;
        }
        if (serviceChain is { Enabled: true }) AddChain(result, serviceChain, "service");
        if (service is not null && filters is not null) AddFilterPlugins(result, config, filters, "service", p => p.ServiceId == service.Id && p.RouteId is null);
        if (routeChain is { Enabled: true }) AddChain(result, routeChain, "route");
        if (filters is not null) AddFilterPlugins(result, config, filters, "route", p => p.RouteId == route.Id && p.ServiceId is null);
        return result;
    }

    private static void AddChain(List<(FilterEntryModel, FilterEntryOrigin)> result, FilterChainModel chain, string scope)
    {
        var origin = new FilterEntryOrigin(scope, chain.Id, chain.Name);
        foreach (var filter in chain.Filters)
            if (filter.Enabled) result.Add((filter, origin));
    }

    private static void AddFilterPlugins(List<(FilterEntryModel, FilterEntryOrigin)> result, GatewayConfig config, WasmFilterCatalog filters,
        string scopeName, Func<PluginModel, bool> scope)
    {
        if (config.Plugins.IsDefaultOrEmpty) return;
        result.AddRange(config.Plugins
            .Where(p => p.Enabled && filters.ByName(p.Name) is not null && scope(p))
            .OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.UpdatedAt).ThenBy(p => p.CreatedAt).ThenBy(p => p.Id.ToString(), StringComparer.Ordinal)
            .Select(p => (new FilterEntryModel(p.Name, true, FilterChainEntity.Serialize(p.RawConfig)), new FilterEntryOrigin(scopeName, null, null, p.Id))));
    }

    /// <summary>A chain whose filter rejected its configuration: requests get Kong's 500.</summary>
    private sealed class FailedChainHandler : IAccessHandler
    {
        public string Name => "wasm-filter-chain";
        public ValueTask<PhaseOutcome> OnAccessAsync(ProxyContext context) =>
            ValueTask.FromResult(context.Exit(500, "An unexpected error occurred"));
    }
}
