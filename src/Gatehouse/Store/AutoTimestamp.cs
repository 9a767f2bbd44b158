using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Store;

/// <summary>The value the store gives an entity's <c>created_at</c>/<c>updated_at</c>: Unix seconds (Kong's
/// <c>auto_timestamp_s</c>), or seconds with milliseconds for a number field (Kong's <c>auto_timestamp_ms</c>, e.g.
/// targets).</summary>
public static class AutoTimestamp
{
    public static JsonNode For(EntitySchema schema, string field, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(schema);
        return schema.Field(field)?.Type == FieldType.Number
            ? JsonValue.Create(Math.Round(now.ToUnixTimeMilliseconds() / 1000.0, 3))
            : JsonValue.Create(now.ToUnixTimeSeconds());
    }

    /// <summary>The later of now and <paramref name="previous"/> (an update never moves updated_at back).</summary>
    public static JsonNode NotBefore(EntitySchema schema, string field, DateTimeOffset now, JsonNode? previous)
    {
        var value = For(schema, field, now);
        return EntityJson.TryNumber(previous, out var p) && EntityJson.TryNumber(value, out var v) && p > v ? previous!.DeepClone() : value;
    }
}
