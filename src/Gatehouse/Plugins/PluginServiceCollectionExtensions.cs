using Gatehouse.Config;
using Gatehouse.Plugins.Bundled.Logging;
using Gatehouse.Plugins.Bundled.Prometheus;
using Gatehouse.Plugins.Bundled.ProxyCache;
using Gatehouse.Plugins.Bundled.RateLimiting;
using Gatehouse.Proxy.Pipeline;
using Gatehouse.Store;
using Gatehouse.Store.Postgres;
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
    /// the rate-limiting <c>cluster</c> policy counts in the node's database (SQLite file or PostgreSQL).</param>
    public static IServiceCollection AddGatehousePlugins(this IServiceCollection services, GatehouseOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton((options?.Database == DatabaseKind.Off ? PluginCatalog.BundledDbLess : PluginCatalog.Bundled)
            .Only(options?.Plugins ?? ["bundled"]));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => ClusterCounters(sp, options));
        services.TryAddSingleton<RateLimitCounters>();
        services.TryAddSingleton<LogSinks>();
        services.TryAddSingleton<PrometheusMetrics>();
        services.TryAddSingleton(new ProxyCacheStore(options?.MemCacheSize ?? ProxyCacheStore.DefaultCapacity));
        services.TryAddSingleton(sp => new Bundled.OpenTelemetry.SpanExporters(sp.GetRequiredService<PrometheusMetrics>(),
            sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<TimeProvider>(), options?.TracingSamplingRate ?? 0.01));
        services.TryAddSingleton<PluginServices>();
        services.AddSingleton<IPhasePlanContributor, PluginPlanContributor>();
        return services;
    }

    /// <summary>The <c>cluster</c> policy's store for the node's database. On PostgreSQL it shares the entity store's
    /// connections (and so pg_max_concurrent_queries) when the process has one.</summary>
    private static IClusterCounterStore ClusterCounters(IServiceProvider sp, GatehouseOptions? options)
    {
        var time = sp.GetRequiredService<TimeProvider>();
        var loggers = sp.GetRequiredService<ILoggerFactory>();
        if (options?.Database != DatabaseKind.Postgres)
            return new SqliteClusterCounterStore(options?.Database == DatabaseKind.Sqlite ? options.EffectiveSqlitePath : null, time, loggers);
        return sp.GetService<PostgresConnections>() is { } shared
            ? new PostgresClusterCounterStore(shared, ownsConnections: false, time, loggers)
            : new PostgresClusterCounterStore(new PostgresConnections(options.Postgres), ownsConnections: true, time, loggers);
    }
}
