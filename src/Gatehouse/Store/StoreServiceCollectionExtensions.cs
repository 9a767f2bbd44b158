using Gatehouse.Config;
using Gatehouse.Entities;
using Gatehouse.Model;
using Gatehouse.Store.Declarative;
using Gatehouse.Store.Outage;
using Gatehouse.Store.Postgres;
using Gatehouse.Store.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Store;

/// <summary>Registers the configured store, the DAO, the declarative service, what the Admin API needs, and a
/// hosted service that migrates/loads and publishes the first GatewayConfig before listeners accept traffic.</summary>
public static class StoreServiceCollectionExtensions
{
    /// <summary>
    /// Expects logging and the <see cref="EntityRegistry"/> to be registered by the host (Hosting composes the
    /// registry from the plugins and filters). Registers (if absent) <paramref name="options"/>,
    /// <see cref="TimeProvider.System"/> and <see cref="GatewayConfigPublisher"/> as singletons.
    /// </summary>
    public static IServiceCollection AddGatehouseStore(this IServiceCollection services, GatehouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        services.TryAddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(new StoreStartupOptions(RunMigrations: true));
        services.TryAddSingleton(VaultResolver.ForNode(options)); // the configuration builder resolves references with it
        services.TryAddSingleton<GatewayConfigPublisher>();
        if (options.Database == DatabaseKind.Postgres) AddOutageTolerance(services, options);
        services.TryAddSingleton<IEntityStore>(sp => CreateStore(options, sp.GetRequiredService<EntityRegistry>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<StoreConfigPublisher>();
        services.TryAddSingleton(sp => new EntityDao(sp.GetRequiredService<IEntityStore>(), sp.GetRequiredService<EntityRegistry>(),
            sp.GetRequiredService<StoreConfigPublisher>(), sp.GetRequiredService<TimeProvider>(), readOnly: options.Database == DatabaseKind.Off));
        services.TryAddSingleton<DeclarativeLoader>();
        services.TryAddSingleton<DeclarativeConfigService>();
        services.TryAddSingleton<AdminNodeInfo>();
        services.AddHostedService<StoreInitializer>();
        AddOutageMonitor(services, options);
        AddCluster(services, options);
        return services;
    }

    /// <summary>A shared database can go away: the node keeps its last published rows (memory and prefix), serves Admin
    /// reads from them meanwhile, and watches for the database's return (docs/cluster.md).</summary>
    private static void AddOutageTolerance(IServiceCollection services, GatehouseOptions options)
    {
        // one pool per node, shared by the entity store and whatever else talks to the database (cluster counters)
        services.TryAddSingleton(_ => new PostgresConnections(options.Postgres));
        services.TryAddSingleton(sp => new ConfigSnapshot(options.Prefix, sp.GetRequiredService<EntityRegistry>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ConfigSnapshot>>()));
        services.TryAddSingleton(sp => new OutageTolerantEntityStore(
            new PostgresEntityStore(sp.GetRequiredService<PostgresConnections>(), sp.GetRequiredService<EntityRegistry>(), sp.GetRequiredService<TimeProvider>()),
            sp.GetRequiredService<ConfigSnapshot>(), sp.GetRequiredService<ILogger<OutageTolerantEntityStore>>()));
        services.TryAddSingleton<IEntityStore>(sp => sp.GetRequiredService<OutageTolerantEntityStore>());
        services.TryAddSingleton<DatabaseMonitor>();
        services.TryAddSingleton<SnapshotStart>();
    }

    /// <summary>Starts the monitor after the initializer (the first publish, or the snapshot start).</summary>
    private static void AddOutageMonitor(IServiceCollection services, GatehouseOptions options)
    {
        if (options.Database == DatabaseKind.Postgres)
            services.AddHostedService(sp => sp.GetRequiredService<DatabaseMonitor>());
    }

    /// <summary>How this node hears of other nodes' changes and lists them: only PostgreSQL is shared by several nodes.
    /// Registered after <see cref="StoreInitializer"/>, so the listeners start once the first configuration is served.</summary>
    private static void AddCluster(IServiceCollection services, GatehouseOptions options)
    {
        if (options.Database != DatabaseKind.Postgres)
        {
            services.TryAddSingleton<IClusterEvents, NoOtherNodes>();
            services.TryAddSingleton<IClusterNodes, ThisNodeOnly>();
            return;
        }
        static PostgresConnections Connections(IServiceProvider sp) => sp.GetRequiredService<PostgresConnections>();
        services.TryAddSingleton<IClusterEvents>(sp => new PostgresClusterEvents(Connections(sp), sp.GetRequiredService<AdminNodeInfo>()));
        services.TryAddSingleton(sp => new PostgresClusterNodes(Connections(sp), sp.GetRequiredService<AdminNodeInfo>(),
            sp.GetRequiredService<StoreConfigPublisher>(), sp.GetRequiredService<GatewayConfigPublisher>(), options,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<PostgresClusterNodes>>()));
        services.TryAddSingleton<IClusterNodes>(sp => sp.GetRequiredService<PostgresClusterNodes>());
        services.AddHostedService(sp => sp.GetRequiredService<PostgresClusterNodes>());
        services.AddHostedService(sp =>
        {
            var publisher = sp.GetRequiredService<StoreConfigPublisher>();
            return new PostgresChangeListener(Connections(sp), sp.GetRequiredService<AdminNodeInfo>().NodeId, options.DbUpdateFrequency,
                options.DbUpdatePropagation, ct => publisher.ReloadAsync(ct), sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<PostgresChangeListener>>());
        });
    }

    internal static IEntityStore CreateStore(GatehouseOptions options, EntityRegistry registry, TimeProvider time) => options.Database switch
    {
        DatabaseKind.Off => SqliteEntityStore.Temporary(registry, time),
        DatabaseKind.Sqlite => SqliteEntityStore.ForFile(options.EffectiveSqlitePath, registry, time),
        DatabaseKind.Postgres => new PostgresEntityStore(new PostgresConnections(options.Postgres), registry, time),
        _ => throw new NotSupportedException($"database = {options.Database.ToString().ToLowerInvariant()} is not supported"),
    };
}
