using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Model;

namespace Gatehouse.Entities.Schemas;

/// <summary>
/// Kong 3.x <c>filter_chains</c> (§1.3). The schema depends on the enabled filters (name <c>one_of</c>, config
/// schemas, the wasm status check), so it is built from an injected <see cref="IFilterSchemaSource"/>.
/// </summary>
public static class FilterChainEntity
{
    public const string Name = "filter_chains";

    /// <param name="filters">the enabled filters, their config checks and the wasm status</param>
    public static EntitySchema Create(IFilterSchemaSource filters)
    {
        ArgumentNullException.ThrowIfNull(filters);
        EntitySchema? schema = null;
        return schema = new EntitySchema
        {
            Name = Name,
            SingularName = "filter_chain",
            AdminApiNameOverride = "filter-chains",
            CacheKey = ["route", "service"],
            AddToConfig = (config, rows) => config with { FilterChains = [.. rows.Select(row => ToModel(schema!, row))] },
            Fields =
            [
                Typedefs.Id(),
                Typedefs.Utf8Name(),
                Typedefs.Bool("enabled", true, required: true),
                Typedefs.Foreign("route", "routes", OnDelete.Cascade),
                Typedefs.Foreign("service", "services", OnDelete.Cascade),
                new FieldDefinition("filters", FieldType.Array) { Required = true, LenMin = 1, Elements = FilterRecord(filters) },
                Typedefs.AutoTimestamp("created_at"),
                Typedefs.AutoTimestamp("updated_at"),
                Typedefs.Tags(),
            ],
            Checks =
            [
                new MutuallyExclusiveCheck(["service", "route"]),
                new AtLeastOneOfCheck(["service", "route"]),
                // run_with_invalid_fields: no sources, so it is never skipped.
                new CustomEntityCheck([], _ => filters.DisabledReason),
            ],
        };
    }

    private static FieldDefinition FilterRecord(IFilterSchemaSource filters) => new("filter", FieldType.Record)
    {
        Fields =
        [
            new FieldDefinition("name", FieldType.String) { Required = true, OneOf = filters.FilterNames, Err = "no such filter" },
            Typedefs.Bool("enabled", true, required: true),
            new FieldDefinition("config", FieldType.Json),
        ],
        RecordChecks = [new FilterConfigCheck(filters)],
    };

    /// <summary>Defaults come from the schema (<see cref="EntityReader"/>; a filter entry's <c>enabled</c> defaults
    /// to true as its record field does).</summary>
    private static FilterChainModel ToModel(EntitySchema schema, JsonObject e)
    {
        var r = new EntityReader(schema, e);
        return new()
        {
            Id = r.Guid("id"),
            Name = r.String("name"),
            Enabled = r.Bool("enabled"),
            RouteId = r.ForeignId("route"),
            ServiceId = r.ForeignId("service"),
            Filters = [.. (e["filters"] as JsonArray ?? []).OfType<JsonObject>().Select(f => new FilterEntryModel(
                EntityJson.String(f, "name") ?? "", EntityJson.Bool(f, "enabled") ?? true, Serialize(f["config"])))],
            Tags = r.Strings("tags"),
        };
    }

    /// <summary>Kong §5.5: strings verbatim, other JSON encoded, null as empty.</summary>
    public static string Serialize(JsonNode? config) => config switch
    {
        null => "",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => config.ToJsonString(),
    };
}

/// <summary>Validates <c>config</c> against the named filter's JSON schema, then (beyond Kong) with the filter's own
/// <c>proxy_on_configure</c> in a scratch VM (<see cref="IFilterSchemaSource.CheckConfig"/>); the error goes to
/// <c>config</c>.</summary>
internal sealed record FilterConfigCheck(IFilterSchemaSource Filters) : EntityCheck
{
    public override IReadOnlyList<string> Sources => ["name", "config"];

    public override CheckFailure? Evaluate(JsonObject record) =>
        EntityJson.String(record, "name") is { } name
        && Filters.CheckConfig(name, record["config"], EntityJson.Bool(record, "enabled") != false) is { } error
            ? new CheckFailure("config", error) : null;
}
