using System.Text.Json.Nodes;
using Gatehouse.Model;
using Gatehouse.Plugins;
using Gatehouse.Wasm;

namespace Gatehouse.Entities.Schemas;

/// <summary>Kong 3.x <c>plugins</c>: the config record is the named plugin's own schema (defaults, errors under
/// <c>fields.config</c>); one instance per (name, route, service, consumer). With <paramref name="filters"/>, each
/// enabled Wasm filter is a plugin name too (Kong 3.9 §2.5).</summary>
public static class PluginEntity
{
    public static EntitySchema Create(PluginCatalog catalog, FilterPluginSchema? filters = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        filters ??= FilterPluginSchema.None;
        return new EntitySchema
        {
            Name = "plugins",
            SingularName = "plugin",
            EndpointKey = "instance_name",
            CacheKey = ["name", "route", "service", "consumer"],
            AddToConfig = (config, rows) => config with { Plugins = [.. rows.Select(ToModel)] },
            Fields =
            [
                Typedefs.Id(),
                Typedefs.AutoTimestamp("created_at"),
                Typedefs.AutoTimestamp("updated_at"),
                new FieldDefinition("name", FieldType.String)
                {
                    Required = true,
                    Custom = v => catalog.Find(v.GetValue<string>()) is null && !filters.IsFilter(v.GetValue<string>())
                        ? PluginCatalog.NotEnabled(v.GetValue<string>()) : null,
                },
                Typedefs.Utf8Name("instance_name"),
                Typedefs.Foreign("route", "routes", OnDelete.Cascade),
                Typedefs.Foreign("service", "services", OnDelete.Cascade),
                Typedefs.Foreign("consumer", "consumers", OnDelete.Cascade),
                new FieldDefinition("config", FieldType.Json)
                {
                    ResolveFrom = data => filters.IsFilter(data["name"]) ? filters.ConfigField : Plugin(catalog, data)?.ConfigField(),
                },
                new FieldDefinition("protocols", FieldType.Set)
                {
                    Required = true,
                    Default = new JsonArray("grpc", "grpcs", "http", "https"),
                    DefaultFrom = data => new JsonArray([.. (Plugin(catalog, data)?.Protocols ?? DefaultProtocols).Select(x => (JsonNode?)x)]),
                    Elements = Typedefs.Protocol("protocol"),
                    ResolveFrom = data => filters.IsFilter(data["name"]) ? FilterPluginSchema.ProtocolsField : null,
                },
                Typedefs.Bool("enabled", true, required: true),
                Typedefs.Tags(),
            ],
            Checks = filters.Checks,
        };
    }

    private static readonly string[] DefaultProtocols = ["grpc", "grpcs", "http", "https"];

    private static GatehousePlugin? Plugin(PluginCatalog catalog, JsonObject data) =>
        data["name"] is JsonValue v && v.TryGetValue<string>(out var name) ? catalog.Find(name) : null;

    public static PluginModel ToModel(JsonObject e) => new()
    {
        Id = EntityJson.Guid(e, "id"),
        Name = EntityJson.String(e, "name") ?? "",
        InstanceName = EntityJson.String(e, "instance_name"),
        Config = e["config"] as JsonObject ?? [],
        RawConfig = e["config"],
        Enabled = EntityJson.Bool(e, "enabled") ?? true,
        Protocols = EntityJson.Strings(e, "protocols"),
        RouteId = EntityJson.ForeignId(e, "route"),
        ServiceId = EntityJson.ForeignId(e, "service"),
        ConsumerId = EntityJson.ForeignId(e, "consumer"),
        Tags = EntityJson.Strings(e, "tags"),
        CreatedAt = EntityJson.Long(e, "created_at") ?? 0,
        UpdatedAt = EntityJson.Long(e, "updated_at") ?? 0,
    };
}
