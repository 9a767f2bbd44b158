using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Entities.Schemas;

namespace Gatehouse.Wasm;

/// <summary>
/// Kong 3.9 "filters as plugins" (§2.5): every enabled filter is also a plugin name, with the generated subschema
/// <c>{name, consumer = no_consumer, protocols = protocols_http, config = json}</c> and the entity checks
/// mutually_exclusive/at_least_one_of (service, route). The plugins entity consults this when its <c>name</c> is a
/// filter; the config is checked like a chain entry's (meta.json schema, then the filter's own configure). It is
/// what the plugins and filter_chains entities know of the filters (<see cref="IPluginSchemaSource"/>,
/// <see cref="IFilterSchemaSource"/>).
/// </summary>
public sealed class FilterPluginSchema : IPluginSchemaSource, IFilterSchemaSource
{
    /// <summary>Kong's handler version and priority of a filter plugin (<c>GET /</c> lists them).</summary>
    public const string Version = "0.1.0";
    public const int Priority = 0;

    /// <summary>http, https, grpc, grpcs (Kong's <c>protocols_http</c> default).</summary>
    public static IReadOnlyList<string> Protocols { get; } = ["grpc", "grpcs", "http", "https"];

    /// <summary>Kong's <c>protocols_http</c>: a set of the http-family protocols only, all four by default.</summary>
    public static FieldDefinition ProtocolsField { get; } = new("protocols", FieldType.Set)
    {
        Required = true,
        Default = new JsonArray([.. Protocols.Select(p => (JsonNode?)p)]),
        Elements = new FieldDefinition("protocol", FieldType.String) { OneOf = Protocols },
    };

    private readonly WasmFilterCatalog _catalog;
    private readonly Func<string, string, string?>? _filterCheck;

    /// <param name="catalog">the enabled filters</param>
    /// <param name="filterCheck">optional: runs the filter's own configure on (name, serialized config)</param>
    public FilterPluginSchema(WasmFilterCatalog catalog, Func<string, string, string?>? filterCheck = null)
    {
        _catalog = catalog ?? throw new ArgumentNullException(nameof(catalog));
        _filterCheck = filterCheck;
    }

    /// <summary>None: the schema of a node without filters.</summary>
    public static FilterPluginSchema None { get; } = new(WasmFilterCatalog.Off);

    public IReadOnlyList<string> Names => _catalog.Names;

    IReadOnlyList<string> IPluginSchemaSource.PluginNames => Names;
    IReadOnlyList<string> IFilterSchemaSource.FilterNames => Names;
    IReadOnlyList<EntityCheck> IPluginSchemaSource.PluginChecks => Checks;

    /// <summary>Kong's <c>wasm.status</c> (<see cref="WasmFilterCatalog.DisabledReason"/>).</summary>
    public string? DisabledReason => _catalog.DisabledReason;

    public PluginSubschema? FindPlugin(string name) =>
        IsFilter(name) ? new PluginSubschema(name, ConfigField, Protocols) { ProtocolsField = ProtocolsField } : null;

    public bool IsFilter(string name) => _catalog.ByName(name) is not null;

    /// <summary>Whether the entity's <c>name</c> is a filter.</summary>
    public bool IsFilter(JsonNode? name) => name is JsonValue v && v.TryGetValue<string>(out var s) && IsFilter(s);

    /// <summary>The <c>config</c> of a filter plugin: JSON of any shape (a string when the filter has no schema),
    /// optional, no default; validated by <see cref="Checks"/>.</summary>
    public FieldDefinition ConfigField { get; } = new("config", FieldType.Json);


    /// <summary>The checks the plugins entity adds; each applies only when <c>name</c> is a filter (and none is
    /// listed by <c>GET /schemas/plugins</c>, whose entity has no checks in Kong).</summary>
    public IReadOnlyList<EntityCheck> Checks =>
    [
        new WhenFilterCheck(this, new ConditionalCheck("consumer", _ => true, "consumer", ConditionalCheck.MustBeNull)),
        new WhenFilterCheck(this, new MutuallyExclusiveCheck(["service", "route"])),
        new WhenFilterCheck(this, new AtLeastOneOfCheck(["service", "route"])),
        new FilterPluginConfigCheck(this),
    ];

    /// <summary>Kong's generated subschema of one filter (<c>GET /schemas/plugins/&lt;filter&gt;</c>).</summary>
    public static EntitySchema SubschemaOf(string name) => new()
    {
        Name = name,
        SingularName = name,
        EndpointKey = null,
        Fields =
        [
            new FieldDefinition("name", FieldType.String),
            Typedefs.Foreign("consumer", "consumers") with { MustBeNull = true },
            ProtocolsField,
            new FieldDefinition("config", FieldType.Json),
        ],
        Checks = [new MutuallyExclusiveCheck(["service", "route"]), new AtLeastOneOfCheck(["service", "route"])],
    };

    /// <summary>The schema error, then the filter's own rejection, or null.</summary>
    public string? CheckConfig(string name, JsonNode? config, bool enabled)
    {
        if (_catalog.ByName(name) is not { } filter) return null;
        if (filter.ConfigSchema.Validate(config) is { } error) return error;
        if (!enabled || _filterCheck is null) return null;
        return _filterCheck(name, FilterChainEntity.Serialize(config));
    }

    private sealed record WhenFilterCheck(FilterPluginSchema Schema, EntityCheck Inner) : EntityCheck
    {
        public override IReadOnlyList<string> Sources => ["name", .. Inner.Sources];

        public override CheckFailure? Evaluate(JsonObject entity) => Schema.IsFilter(entity["name"]) ? Inner.Evaluate(entity) : null;
    }

    private sealed record FilterPluginConfigCheck(FilterPluginSchema Schema) : EntityCheck
    {
        public override IReadOnlyList<string> Sources => ["name", "config"];

        public override CheckFailure? Evaluate(JsonObject entity)
        {
            if (EntityJson.String(entity, "name") is not { } name) return null;
            return Schema.CheckConfig(name, entity["config"], EntityJson.Bool(entity, "enabled") != false) is { } error
                ? new CheckFailure("config", error) : null;
        }
    }
}
