using Gatehouse.Config;
using Gatehouse.Entities;
using Gatehouse.Entities.Schemas;
using Gatehouse.Plugins;
using Gatehouse.Proxy.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.Wasm;

/// <summary>Registers Kong's wasm feature: the filter catalog (discovered now, so bad metadata stops the start),
/// the process-wide runtime, the filter_chains and plugins entities built for this catalog (filters are plugin names
/// too, Kong 3.9), and the plan contributor.</summary>
public static class WasmServiceCollectionExtensions
{
    /// <summary>Call after the store and plugin registrations (filters run after plugins).</summary>
    public static IServiceCollection AddGatehouseWasm(this IServiceCollection services, GatehouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        var catalog = WasmFilterCatalog.Load(options);
        var pluginCatalog = services.LastOrDefault(d => d.ServiceType == typeof(PluginCatalog))?.ImplementationInstance as PluginCatalog
            ?? PluginCatalog.Bundled;
        // Kong §1.1 point 5: filter names join the plugin names; a clash aborts configuration loading.
        foreach (var name in catalog.Names)
            if (pluginCatalog.Find(name) is not null) throw new WasmStartupException($"duplicate plugin/wasm filter name: {name}");
        services.AddSingleton(catalog);
        services.AddSingleton<WasmFilterRuntime>();
        services.TryAddSingleton(new WasmGatewayLimits());
        services.Replace(ServiceDescriptor.Singleton(sp =>
        {
            var runtime = sp.GetRequiredService<WasmFilterRuntime>();
            var chains = FilterChainEntity.Create(catalog, runtime.CheckConfiguration);
            var plugins = PluginEntity.Create(sp.GetService<PluginCatalog>() ?? PluginCatalog.Bundled,
                new FilterPluginSchema(catalog, runtime.CheckConfiguration));
            return new EntityRegistry([.. EntityRegistry.Default.Schemas.Select(s =>
                s.Name == FilterChainEntity.Name ? chains : s.Name == plugins.Name ? plugins : s)]);
        }));
        services.TryAddSingleton<ProxyWasm.Runtime.LogRateLimiter>();
        services.AddSingleton<IPhasePlanContributor, FilterChainPlanContributor>();
        services.AddHostedService<MissingFilterStartCheck>();
        services.AddHostedService<FilterHotReloader>();
        return services;
    }
}
