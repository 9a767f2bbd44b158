using Gatehouse.Config;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Store;

/// <summary>CONTRACT STUB (owned by the store/admin work): registers the configured store and a hosted
/// service that loads the configuration and publishes the first GatewayConfig before listeners accept traffic.</summary>
public static class StoreServiceCollectionExtensions
{
    public static IServiceCollection AddGatehouseStore(this IServiceCollection services, GatehouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return services;
    }
}
