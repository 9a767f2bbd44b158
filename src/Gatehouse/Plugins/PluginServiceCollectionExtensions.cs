using Gatehouse.Plugins.Bundled.Logging;
using Gatehouse.Plugins.Bundled.Prometheus;
using Gatehouse.Plugins.Bundled.ProxyCache;
using Gatehouse.Plugins.Bundled.RateLimiting;
using Gatehouse.Proxy.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.Plugins;

/// <summary>Registers the plugin model: the catalog, long-lived plugin services and the plan contributor.</summary>
public static class PluginServiceCollectionExtensions
{
    /// <summary>Call before any other <see cref="IPhasePlanContributor"/> (Wasm filter chains): contributors run in
    /// registration order, and plugins run before filters in every phase.</summary>
    public static IServiceCollection AddGatehousePlugins(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(PluginCatalog.Bundled);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RateLimitCounters>();
        services.TryAddSingleton<LogSinks>();
        services.TryAddSingleton<PrometheusMetrics>();
        services.TryAddSingleton<ProxyCacheStore>();
        services.TryAddSingleton<PluginServices>();
        services.AddSingleton<IPhasePlanContributor, PluginPlanContributor>();
        return services;
    }
}
