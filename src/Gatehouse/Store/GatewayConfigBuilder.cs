using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Model;

namespace Gatehouse.Store;

/// <summary>
/// Turns stored entity documents into the immutable typed <see cref="GatewayConfig"/>. Each entity's
/// conversion lives next to its schema (<see cref="EntitySchema.AddToConfig"/>), so this stays generic.
/// </summary>
public static class GatewayConfigBuilder
{
    public static GatewayConfig Build(EntityRegistry registry, IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> rows, long version)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(rows);
        var config = new GatewayConfig { Version = version };
        foreach (var schema in registry.Schemas)
            if (schema.AddToConfig is { } add && rows.TryGetValue(schema, out var list))
                config = add(config, list);
        return config;
    }
}
