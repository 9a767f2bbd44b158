using Gatehouse.Entities;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Admin;

/// <summary>Maps every Admin API endpoint. Requires <c>AddGatehouseStore</c> on the same service provider.</summary>
public static class AdminApiExtensions
{
    /// <summary>
    /// <c>/</c>, <c>/status</c>, <c>/config</c>, <c>/schemas/...</c>, <c>/tags</c>, <c>/endpoints</c>, and the generated endpoints of every
    /// entity in the <see cref="EntityRegistry"/> (collection, entity, nested foreign endpoints).
    /// </summary>
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var registry = endpoints.ServiceProvider.GetRequiredService<EntityRegistry>();
        RootEndpoints.Map(endpoints);
        ConfigEndpoints.Map(endpoints);
        SchemaEndpoints.Map(endpoints);
        PluginEndpoints.Map(endpoints); // issue 5
        WasmAdminEndpoints.Map(endpoints); // issue 4
        UpstreamEndpoints.Map(endpoints); // issue 12
        ClusteringEndpoints.Map(endpoints); // issue 13
        TagEndpoints.Map(endpoints);
        EndpointList.Map(endpoints);
        foreach (var schema in registry.Schemas) EntityEndpoints.Map(endpoints, schema, registry);
        return endpoints;
    }
}
