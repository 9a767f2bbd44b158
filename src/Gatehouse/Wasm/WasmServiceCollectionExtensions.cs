using Gatehouse.Config;
using Gatehouse.Proxy.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.Wasm;

/// <summary>Registers Kong's wasm feature: the filter catalog (discovered now, so bad metadata stops the start),
/// the process-wide runtime, the <see cref="FilterPluginSchema"/> the host builds the filter_chains and plugins
/// entities from (filters are plugin names too, Kong 3.9), and the plan contributor.</summary>
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
        services.AddSingleton(sp => new FilterPluginSchema(catalog, sp.GetRequiredService<WasmFilterRuntime>().CheckConfiguration));
        services.TryAddSingleton<ProxyWasm.Runtime.LogRateLimiter>();
        services.AddSingleton<IPhasePlanContributor, FilterChainPlanContributor>();
        services.AddHostedService<MissingFilterStartCheck>();
        services.AddHostedService<FilterHotReloader>();
        return services;
    }
}
