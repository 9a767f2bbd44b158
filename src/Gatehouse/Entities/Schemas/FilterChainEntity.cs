using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Model;
using Gatehouse.Wasm;

namespace Gatehouse.Entities.Schemas;

/// <summary>
/// Kong 3.x <c>filter_chains</c> (§1.3). The schema depends on the enabled filters (name <c>one_of</c>, config
/// schemas, the wasm status check), so it is built from an injected <see cref="WasmFilterCatalog"/>.
/// </summary>
public static class FilterChainEntity
{
    public const string Name = "filter_chains";

    /// <param name="catalog">the enabled filters</param>
    /// <param name="filterCheck">optional: runs the filter's own configure on (name, serialized config), returning an error or null</param>
    public static EntitySchema Create(WasmFilterCatalog catalog, Func<string, string, string?>? filterCheck = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new EntitySchema
        {
            Name = Name,
            SingularName = "filter_chain",
            AdminApiNameOverride = "filter-chains",
            CacheKey = ["route", "service"],
            AddToConfig = (config, rows) => config with { FilterChains = [.. rows.Select(ToModel)] },
            Fields =
            [
                Typedefs.Id(),
                Typedefs.Utf8Name(),
                Typedefs.Bool("enabled", true, required: true),
                Typedefs.Foreign("route", "routes", OnDelete.Cascade),
                Typedefs.Foreign("service", "services", OnDelete.Cascade),
                new FieldDefinition("filters", FieldType.Array) { Required = true, LenMin = 1, Elements = FilterRecord(catalog, filterCheck) },
                Typedefs.AutoTimestamp("created_at"),
                Typedefs.AutoTimestamp("updated_at"),
                Typedefs.Tags(),
            ],
            Checks =
            [
                new MutuallyExclusiveCheck(["service", "route"]),
                new AtLeastOneOfCheck(["service", "route"]),
                // run_with_invalid_fields: no sources, so it is never skipped.
                new CustomEntityCheck([], _ => catalog.DisabledReason),
            ],
        };
    }

    private static FieldDefinition FilterRecord(WasmFilterCatalog catalog, Func<string, string, string?>? filterCheck) => new("filter", FieldType.Record)
    {
        Fields =
        [
            new FieldDefinition("name", FieldType.String) { Required = true, OneOf = catalog.Names, Err = "no such filter" },
            Typedefs.Bool("enabled", true, required: true),
            new FieldDefinition("config", FieldType.Json),
        ],
        RecordChecks = [new FilterConfigCheck(catalog, filterCheck)],
    };

    public static FilterChainModel ToModel(JsonObject e) => new()
    {
        Id = EntityJson.Guid(e, "id"),
        Name = EntityJson.String(e, "name"),
        Enabled = EntityJson.Bool(e, "enabled") ?? true,
        RouteId = EntityJson.ForeignId(e, "route"),
        ServiceId = EntityJson.ForeignId(e, "service"),
        Filters = [.. (e["filters"] as JsonArray ?? []).OfType<JsonObject>().Select(f => new FilterEntryModel(
            EntityJson.String(f, "name") ?? "", EntityJson.Bool(f, "enabled") ?? true, Serialize(f["config"])))],
        Tags = EntityJson.Strings(e, "tags"),
    };

    /// <summary>Kong §5.5: strings verbatim, other JSON encoded, null as empty.</summary>
    public static string Serialize(JsonNode? config) => config switch
    {
        null => "",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => config.ToJsonString(),
    };
}

/// <summary>Validates <c>config</c> against the named filter's JSON schema, then (beyond Kong) with the filter's own
/// <c>proxy_on_configure</c> in a scratch VM; the error goes to <c>config</c>.</summary>
internal sealed record FilterConfigCheck(WasmFilterCatalog Catalog, Func<string, string, string?>? FilterCheck) : EntityCheck
{
    public override IReadOnlyList<string> Sources => ["name", "config"];

    public override CheckFailure? Evaluate(JsonObject record)
    {
        if (EntityJson.String(record, "name") is not { } name || Catalog.ByName(name) is not { } filter) return null;
        if (filter.ConfigSchema.Validate(record["config"]) is { } error) return new CheckFailure("config", error);
        if (EntityJson.Bool(record, "enabled") == false || FilterCheck is null) return null;
        return FilterCheck(name, FilterChainEntity.Serialize(record["config"])) is { } rejected ? new CheckFailure("config", rejected) : null;
    }
}
