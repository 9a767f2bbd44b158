using Gatehouse.Config;
using Gatehouse.Plugins.Bundled.Logging;
using Gatehouse.Plugins.Bundled.Prometheus;
using Gatehouse.Plugins.Bundled.ProxyCache;
using Gatehouse.Plugins.Bundled.RateLimiting;
using Gatehouse.Proxy.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Plugins;

/// <summary>Registers the plugin model: the catalog, long-lived plugin services and the plan contributor.</summary>
public static class PluginServiceCollectionExtensions
{
    /// <summary>Call before any other <see cref="IPhasePlanContributor"/> (Wasm filter chains): contributors run in
    /// registration order, and plugins run before filters in every phase.</summary>
    /// <param name="options">The node's database: DB-less nodes get <see cref="PluginCatalog.BundledDbLess"/>, and
    /// the rate-limiting <c>cluster</c> policy counts in the SQLite file.</param>
    public static IServiceCollection AddGatehousePlugins(this IServiceCollection services, GatehouseOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton((options?.Database == DatabaseKind.Off ? PluginCatalog.BundledDbLess : PluginCatalog.Bundled)
            .Only(options?.Plugins ?? ["bundled"]));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new ClusterCounterStore(
            options?.Database == DatabaseKind.Sqlite ? options.EffectiveSqlitePath : null,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>()));
        services.TryAddSingleton<RateLimitCounters>();
        services.TryAddSingleton<LogSinks>();
        services.TryAddSingleton<PrometheusMetrics>();
        services.TryAddSingleton(new ProxyCacheStore(options?.MemCacheSize ?? ProxyCacheStore.DefaultCapacity));
        services.TryAddSingleton<PluginServices>();
        services.AddSingleton<IPhasePlanContributor, PluginPlanContributor>();
        return services;
    }
}
