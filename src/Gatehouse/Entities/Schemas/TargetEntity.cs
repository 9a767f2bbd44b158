using System.Text.Json.Nodes;
using Gatehouse.Model;

namespace Gatehouse.Entities.Schemas;

/// <summary>Kong 3.9's <c>targets</c>: one <c>host:port</c> of an upstream with its weight, served at
/// <c>/upstreams/{u}/targets</c>. Stored normalised as Kong's DAO does (IPv4 without leading zeros, IPv6 expanded in
/// brackets, port 8000 when absent), unique per upstream (Kong's cache key), deleted with its upstream.</summary>
public static class TargetEntity
{
    public static EntitySchema Schema { get; } = new()
    {
        Name = "targets",
        SingularName = "target",
        // Kong's endpoint key is "target", unique only within an upstream: the Admin API looks targets up by it under
        // their upstream (Admin/UpstreamEndpoints), never globally
        EndpointKey = null,
        CacheKey = ["upstream", "target"],
        AddToConfig = (config, rows) => config with { Targets = [.. rows.Select(ToModel)] },
        BeforeWrite = (entity, _) => Normalize(entity),
        Fields =
        [
            Typedefs.Id(),
            Typedefs.AutoTimestampMs("created_at"),
            Typedefs.AutoTimestampMs("updated_at"),
            Typedefs.Foreign("upstream", "upstreams", OnDelete.Cascade) with
            {
                Required = true, Description = "The unique identifier or the name of the upstream for which to update the target.",
            },
            new FieldDefinition("target", FieldType.String)
            {
                Required = true, Custom = v => ValidateTarget(v.GetValue<string>()),
                Description = "The target address (ip or hostname) and port.",
            },
            new FieldDefinition("weight", FieldType.Integer)
            {
                Default = 100, Between = (0, 65535),
                Description = "The weight this target gets within the upstream loadbalancer (0-65535).",
            },
            Typedefs.Tags(),
        ],
    };

    public static TargetModel ToModel(JsonObject e)
    {
        var r = new EntityReader(Schema, e);
        return new()
        {
            Id = r.Guid("id"),
            UpstreamId = r.ForeignId("upstream") ?? Guid.Empty,
            Target = Format(r.RequiredString("target")),
            Weight = r.Int("weight"),
            Tags = r.Strings("tags"),
            CreatedAt = EntityJson.TryNumber(e["created_at"], out var created) ? created : 0,
        };
    }

    /// <summary>Kong's stored form of a target (<c>format_host(normalize_ip(t), 8000)</c>); the text itself when it
    /// does not parse (validation reports it).</summary>
    public static string Format(string target) =>
        TargetAddress.Parse(target)?.Format(TargetAddress.DefaultTargetPort) ?? target;

    private static JsonObject Normalize(JsonObject entity)
    {
        if (entity["target"] is JsonValue v && v.TryGetValue<string>(out var t)) entity["target"] = Format(t);
        return entity;
    }

    private static string? ValidateTarget(string target) =>
        TargetAddress.Parse(target) is not null ? null
        : Utf8Check.FirstInvalidPosition(target) is null
            ? $"Invalid target ('{target}'); not a valid hostname or ip address"
            : "Invalid target; not a valid hostname or ip address";
}
