using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Entities.Schemas;
using Gatehouse.Model;

namespace Gatehouse.Store;

/// <summary>
/// Turns stored entity documents into the immutable typed <see cref="GatewayConfig"/>. Each entity's
/// conversion lives next to its schema; adding an entity adds one line here.
/// </summary>
public static class GatewayConfigBuilder
{
    public static GatewayConfig Build(IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> rows, long version)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return new GatewayConfig
        {
            Version = version,
            Services = Convert(rows, ServiceEntity.Schema, ServiceEntity.ToModel),
            Routes = Convert(rows, RouteEntity.Schema, RouteEntity.ToModel),
        };
    }

    private static ImmutableArray<T> Convert<T>(IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> rows,
        EntitySchema schema, Func<JsonObject, T> toModel) =>
        rows.TryGetValue(schema, out var list) ? [.. list.Select(toModel)] : [];
}
