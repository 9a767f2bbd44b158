using Gatehouse.Config;
using Gatehouse.Entities;
using Gatehouse.Entities.Schemas;
using Gatehouse.Proxy.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.Wasm;

/// <summary>Registers Kong's wasm feature: the filter catalog (discovered now, so bad metadata stops the start),
/// the process-wide runtime, the filter_chains entity built for this catalog, and the plan contributor.</summary>
public static class WasmServiceCollectionExtensions
{
    /// <summary>Call after the store and plugin registrations (filters run after plugins).</summary>
    public static IServiceCollection AddGatehouseWasm(this IServiceCollection services, GatehouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        var catalog = WasmFilterCatalog.Load(options);
        services.AddSingleton(catalog);
        services.AddSingleton<WasmFilterRuntime>();
        services.TryAddSingleton(new WasmGatewayLimits());
        services.Replace(ServiceDescriptor.Singleton(sp =>
        {
            var runtime = sp.GetRequiredService<WasmFilterRuntime>();
            var chains = FilterChainEntity.Create(catalog, runtime.CheckConfiguration);
            return new EntityRegistry([.. EntityRegistry.Default.Schemas.Select(s => s.Name == FilterChainEntity.Name ? chains : s)]);
        }));
        services.AddSingleton<IPhasePlanContributor, FilterChainPlanContributor>();
        services.AddHostedService<FilterHotReloader>();
        return services;
    }
}
