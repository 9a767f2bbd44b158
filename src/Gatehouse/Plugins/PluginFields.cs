using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Plugins;

/// <summary>Short constructors for plugin config fields (the schema engine's <see cref="FieldDefinition"/>).</summary>
public static class PluginFields
{
    public static FieldDefinition String(string name, string? @default = null, bool required = false) =>
        new(name, FieldType.String) { Default = @default, Required = required || @default is not null };

    public static FieldDefinition Integer(string name, long? @default = null, bool required = false) =>
        new(name, FieldType.Integer) { Default = @default is { } d ? JsonValue.Create(d) : null, Required = required || @default is not null };

    public static FieldDefinition Number(string name, double? @default = null) =>
        new(name, FieldType.Number) { Default = @default is { } d ? JsonValue.Create(d) : null };

    public static FieldDefinition Bool(string name, bool @default) =>
        new(name, FieldType.Boolean) { Default = @default, Required = true };

    public static FieldDefinition Strings(string name, params string[] @default) =>
        new(name, FieldType.Array)
        {
            Elements = new FieldDefinition(name, FieldType.String),
            Default = @default.Length > 0 ? new JsonArray([.. @default.Select(s => (JsonNode?)s)]) : null,
        };

    public static FieldDefinition StringSet(string name, params string[] @default) =>
        Strings(name, @default) with { Type = FieldType.Set };

    /// <summary>Kong's <c>between</c> for a number field, as a custom check (the schema engine's <c>Between</c> takes
    /// integers).</summary>
    public static Func<JsonNode, string?> Between(double min, double max) => v =>
        v.GetValue<double>() is var d && d >= min && d <= max
            ? null
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"value should be between {min} and {max}");
}
