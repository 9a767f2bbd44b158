using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Plugins;

/// <summary>
/// A plugin type (Kong's handler.lua + schema.lua): its name, priority (higher runs first in every phase), the
/// protocols it supports, and its config schema, written with the same field types as every entity so the Admin
/// API validates it, applies defaults and reports errors under <c>fields.config.*</c>. Stateless; one instance per
/// type, shared; <see cref="Create"/> builds the per-configured-instance handler once per configuration snapshot.
/// </summary>
public abstract class GatehousePlugin
{
    public abstract string Name { get; }
    public abstract int Priority { get; }
    public virtual IReadOnlyList<string> Protocols { get; } = ["grpc", "grpcs", "http", "https"];
    public abstract IReadOnlyList<FieldDefinition> ConfigFields { get; }
    public virtual IReadOnlyList<EntityCheck> ConfigChecks { get; } = [];
    /// <summary>The plugin's version (<c>GET /</c>): Kong's bundled plugins report Kong's release, and so do ours.</summary>
    public string Version => GatehouseVersion.Kong;

    /// <summary>Builds the handler of one configured instance; <paramref name="config"/> is validated.</summary>
    public abstract PluginHandler Create(JsonObject config, PluginBuildContext context);

    /// <summary>The config record as a field of the plugins entity.</summary>
    public FieldDefinition ConfigField() => new("config", FieldType.Record)
    {
        Required = true,
        Default = new JsonObject(),
        Fields = ConfigFields,
        RecordChecks = ConfigChecks,
    };
}
