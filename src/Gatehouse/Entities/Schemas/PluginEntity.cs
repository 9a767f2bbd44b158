using System.Collections.Frozen;
using System.Text.Json.Nodes;
using Gatehouse.Model;

namespace Gatehouse.Entities.Schemas;

/// <summary>Kong 3.x <c>plugins</c>: the config record is the named plugin's own subschema (defaults, errors under
/// <c>fields.config</c>); one instance per (name, route, service, consumer). The names come from the
/// <see cref="IPluginSchemaSource"/>s the host composes: the bundled plugins and, with Wasm on, every enabled filter
/// (Kong 3.9 §2.5).</summary>
public static class PluginEntity
{
    /// <exception cref="ArgumentException">two sources offer one name</exception>
    public static EntitySchema Create(IReadOnlyList<IPluginSchemaSource> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var byName = new Dictionary<string, PluginSubschema>(StringComparer.Ordinal);
        foreach (var source in sources)
            foreach (var name in source.PluginNames)
                if (!byName.TryAdd(name, source.FindPlugin(name) ?? throw new ArgumentException($"plugin {name} has no subschema")))
                    throw new ArgumentException($"duplicate plugin name: {name}");
        var subschemas = byName.ToFrozenDictionary(StringComparer.Ordinal);
        PluginSubschema? Of(JsonNode? name) =>
            name is JsonValue v && v.TryGetValue<string>(out var s) ? subschemas.GetValueOrDefault(s) : null;
        EntitySchema? schema = null;
        return schema = new EntitySchema
        {
            Name = "plugins",
            SingularName = "plugin",
            EndpointKey = "instance_name",
            CacheKey = ["name", "route", "service", "consumer"],
            AddToConfig = (config, rows) => config with { Plugins = [.. rows.Select(row => ToModel(schema!, row))] },
            Fields =
            [
                Typedefs.Id(),
                Typedefs.AutoTimestamp("created_at"),
                Typedefs.AutoTimestamp("updated_at"),
                new FieldDefinition("name", FieldType.String)
                {
                    Required = true,
                    Custom = v => Of(v) is null ? NotEnabled(v.GetValue<string>()) : null,
                },
                Typedefs.Utf8Name("instance_name"),
                Typedefs.Foreign("route", "routes", OnDelete.Cascade),
                Typedefs.Foreign("service", "services", OnDelete.Cascade),
                Typedefs.Foreign("consumer", "consumers", OnDelete.Cascade),
                new FieldDefinition("config", FieldType.Json) { ResolveFrom = data => Of(data["name"])?.ConfigField },
                new FieldDefinition("protocols", FieldType.Set)
                {
                    Required = true,
                    Default = new JsonArray("grpc", "grpcs", "http", "https"),
                    DefaultFrom = data => new JsonArray([.. (Of(data["name"])?.DefaultProtocols ?? DefaultProtocols).Select(x => (JsonNode?)x)]),
                    Elements = Typedefs.Protocol("protocol"),
                    Custom = RouteProtocolRules.PluginProtocolsCheck,
                    ResolveFrom = data => Of(data["name"])?.ProtocolsField,
                },
                Typedefs.Bool("enabled", true, required: true),
                Typedefs.Tags(),
            ],
            Checks = [.. sources.SelectMany(s => s.PluginChecks)],
        };
    }

    private static readonly string[] DefaultProtocols = ["grpc", "grpcs", "http", "https"];

    /// <summary>Kong's message for a plugin that is not available.</summary>
    public static string NotEnabled(string name) => $"plugin '{name}' not enabled; add it to the 'plugins' configuration property";

    /// <summary>Defaults come from the schema (<see cref="EntityReader"/>).</summary>
    private static PluginModel ToModel(EntitySchema schema, JsonObject e)
    {
        var r = new EntityReader(schema, e);
        return new()
        {
            Id = r.Guid("id"),
            Name = r.String("name") ?? "",
            InstanceName = r.String("instance_name"),
            Config = e["config"] as JsonObject ?? [],
            RawConfig = e["config"],
            Enabled = r.Bool("enabled"),
            Protocols = r.Strings("protocols"),
            RouteId = r.ForeignId("route"),
            ServiceId = r.ForeignId("service"),
            ConsumerId = r.ForeignId("consumer"),
            Tags = r.Strings("tags"),
            CreatedAt = r.LongOrNull("created_at") ?? 0,
            UpdatedAt = r.LongOrNull("updated_at") ?? 0,
        };
    }
}
