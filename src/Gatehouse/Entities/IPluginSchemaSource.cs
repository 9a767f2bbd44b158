using System.Text.Json.Nodes;

namespace Gatehouse.Entities;

/// <summary>One plugin name's part of the plugins entity (Kong's plugin subschema): its <c>config</c> field, the
/// protocols an instance gets by default, and, when the name restricts them, its own <c>protocols</c> field.</summary>
public sealed record PluginSubschema(string Name, FieldDefinition ConfigField, IReadOnlyList<string> DefaultProtocols)
{
    /// <summary>Replaces the entity's <c>protocols</c> field for this name (a filter plugin takes the http family
    /// only), or null for the entity's own.</summary>
    public FieldDefinition? ProtocolsField { get; init; }
}

/// <summary>
/// A set of plugin names the plugins entity accepts, with their subschemas. The bundled plugins and the enabled
/// Wasm filters each supply one and the host composes them (<see cref="EntityRegistry.Create"/>), so Entities names
/// neither Plugins nor Wasm.
/// </summary>
public interface IPluginSchemaSource
{
    IReadOnlyList<string> PluginNames { get; }

    /// <summary>The subschema of <paramref name="name"/>, or null when this source does not offer it.</summary>
    PluginSubschema? FindPlugin(string name);

    /// <summary>Entity checks this source adds to the plugins entity (each applies to its own names only).</summary>
    IReadOnlyList<EntityCheck> PluginChecks { get; }
}

/// <summary>What the <c>filter_chains</c> entity needs to know of the filters a node offers (Wasm supplies it).</summary>
public interface IFilterSchemaSource
{
    /// <summary>The enabled filter names (a chain entry's <c>name</c> is one of them).</summary>
    IReadOnlyList<string> FilterNames { get; }

    /// <summary>Kong's <c>wasm.status</c>: null when filters can be configured, else the message clients see.</summary>
    string? DisabledReason { get; }

    /// <summary>The error of <paramref name="config"/> for the named filter (its schema, then, when
    /// <paramref name="enabled"/>, the filter's own check), or null.</summary>
    string? CheckConfig(string name, JsonNode? config, bool enabled);
}
