using System.Collections.Frozen;
using Gatehouse.Entities;
using Gatehouse.Entities.Schemas;
using Gatehouse.Plugins.Bundled;

namespace Gatehouse.Plugins;

/// <summary>The plugin types available on this node (Kong's <c>plugins = bundled</c>). Immutable; the entity schema
/// and the plan contributor receive it explicitly; as an <see cref="IPluginSchemaSource"/> it gives the plugins entity
/// each plugin's config subschema.</summary>
public sealed class PluginCatalog : IPluginSchemaSource
{
    private readonly FrozenDictionary<string, GatehousePlugin> _byName;
    private readonly FrozenDictionary<string, PluginSubschema> _subschemas;

    public PluginCatalog(IEnumerable<GatehousePlugin> plugins)
    {
        ArgumentNullException.ThrowIfNull(plugins);
        All = [.. plugins.OrderByDescending(p => p.Priority).ThenBy(p => p.Name, StringComparer.Ordinal)];
        _byName = All.ToFrozenDictionary(p => p.Name, StringComparer.Ordinal);
        _subschemas = All.ToFrozenDictionary(p => p.Name, p => new PluginSubschema(p.Name, p.ConfigField(), p.Protocols), StringComparer.Ordinal);
        PluginNames = [.. All.Select(p => p.Name)];
    }

    /// <summary>The bundled set, by priority (highest first).</summary>
    public static PluginCatalog Bundled { get; } = new(BundledPlugins.Create());

    /// <summary>The bundled set as a DB-less node offers it (Kong's schemas differ there: no rate-limiting
    /// <c>cluster</c> policy).</summary>
    public static PluginCatalog BundledDbLess { get; } = new(BundledPlugins.Create(database: false));

    public IReadOnlyList<GatehousePlugin> All { get; }

    public GatehousePlugin? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Kong's <c>plugins</c> conf key: the plugins of this catalog that <paramref name="names"/> lists
    /// (<c>bundled</c> = all of them; empty = none). A name this catalog does not have stops the start, as Kong's
    /// "plugin is enabled but not installed".</summary>
    public PluginCatalog Only(IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Contains("bundled")) return this;
        foreach (var name in names)
            if (Find(name) is null)
                throw new InvalidOperationException($"plugins: {name} plugin is enabled but not installed (no bundled plugin has that name)");
        return new PluginCatalog(All.Where(p => names.Contains(p.Name)));
    }

    public IReadOnlyList<string> PluginNames { get; }

    public PluginSubschema? FindPlugin(string name) => _subschemas.GetValueOrDefault(name);

    public IReadOnlyList<EntityCheck> PluginChecks => [];

    /// <summary>Kong's message for a plugin that is not available.</summary>
    public static string NotEnabled(string name) => PluginEntity.NotEnabled(name);
}
