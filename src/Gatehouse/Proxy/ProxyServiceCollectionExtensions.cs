using Gatehouse.Config;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.Proxy;

/// <summary>Registers the proxy data plane: forwarder, shared upstream connector, snapshot provider, access log.</summary>
public static class ProxyServiceCollectionExtensions
{
    public static IServiceCollection AddGatehouseProxy(this IServiceCollection services, GatehouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddHttpForwarder();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(new ProxySettings(options));
        services.TryAddSingleton<RequestDebug>();
        services.TryAddSingleton<ProxyWasm.Runtime.LogRateLimiter>();
        services.TryAddSingleton(UpstreamTlsDefaults.From(options));
        services.TryAddSingleton<UpstreamConnector>();
        services.TryAddSingleton<AccessLogWriter>();
        services.TryAddSingleton(sp => new Balancing.Dns.DnsCache(Balancing.Dns.DnsSettings.From(options.Dns),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<Balancing.Dns.DnsCache>>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<ProxySnapshotProvider>();
        services.TryAddSingleton<ProxyRequestHandler>();
        return services;
    }
}
