using Gatehouse.Entities;
using Gatehouse.Plugins;
using Gatehouse.Proxy;
using Gatehouse.Proxy.Balancing;
using Gatehouse.Wasm;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.Hosting;

/// <summary>
/// The entity registry of a node: Kong's entities, with the plugin names of its <see cref="PluginCatalog"/> and of
/// its enabled Wasm filters (<see cref="FilterPluginSchema"/>). Composed here, above both, so that Entities names
/// neither Plugins nor Wasm and Plugins and Wasm do not name each other.
/// </summary>
public static class GatehouseEntities
{
    /// <summary>The bundled plugins with wasm off: the entities of a node without settings.</summary>
    public static EntityRegistry Default { get; } = Create(PluginCatalog.Bundled, FilterPluginSchema.None);

    /// <exception cref="WasmStartupException">a filter is named like a plugin</exception>
    /// <param name="envVaultLoaded">conf <c>vaults</c> loads the env vault (off: a vault naming it is refused)</param>
    public static EntityRegistry Create(PluginCatalog plugins, FilterPluginSchema filters, bool envVaultLoaded = true)
    {
        ArgumentNullException.ThrowIfNull(plugins);
        ArgumentNullException.ThrowIfNull(filters);
        CheckNames(plugins, filters.Names);
        return EntityRegistry.Create([plugins, filters], filters, BalancerSupports, envVaultLoaded);
    }

    /// <summary>Whether the balancers implement <paramref name="algorithm"/> (an upstream naming another one is refused):
    /// asks <see cref="BalancerFactory"/> with no peers.</summary>
    private static bool BalancerSupports(string algorithm)
    {
        try
        {
            BalancerFactory.Create(algorithm, BalancerFactory.DefaultSlots, [], HealthChecksOff.Instance, TimeProvider.System);
            return true;
        }
        catch (Exception e) when (e is NotSupportedException or ArgumentException) { return false; }
    }

    /// <summary>Registers the node's <see cref="EntityRegistry"/>. Call after <c>AddGatehousePlugins</c> and
    /// <c>AddGatehouseWasm</c>: a filter named like a plugin stops the start here, before anything is built.</summary>
    public static IServiceCollection AddGatehouseEntities(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        CheckNames(Instance<PluginCatalog>(services) ?? PluginCatalog.Bundled, (Instance<WasmFilterCatalog>(services) ?? WasmFilterCatalog.Off).Names);
        services.Replace(ServiceDescriptor.Singleton(sp =>
            Create(sp.GetRequiredService<PluginCatalog>(), sp.GetService<FilterPluginSchema>() ?? FilterPluginSchema.None,
                sp.GetService<Config.GatehouseOptions>()?.EnvVaultLoaded ?? true)));
        return services;
    }

    /// <summary>Kong §1.1 point 5: filter names join the plugin names; a clash aborts configuration loading.</summary>
    private static void CheckNames(PluginCatalog plugins, IReadOnlyList<string> filters)
    {
        foreach (var name in filters)
            if (plugins.Find(name) is not null) throw new WasmStartupException($"duplicate plugin/wasm filter name: {name}");
    }

    private static T? Instance<T>(IServiceCollection services) where T : class =>
        services.LastOrDefault(d => d.ServiceType == typeof(T))?.ImplementationInstance as T;
}
