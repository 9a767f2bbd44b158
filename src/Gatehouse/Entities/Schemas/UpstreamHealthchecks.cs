using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Gatehouse.Entities.Schemas;

/// <summary>
/// The <c>healthchecks</c> record of Kong 3.9's upstreams: active and passive checks with Kong's bounds and defaults
/// (every check disabled by default: intervals and thresholds 0), and <c>threshold</c>. Also says whether a
/// configuration turns checking on, by Kong's rule (<c>is_upstream_using_healthcheck</c>).
/// </summary>
public static partial class UpstreamHealthchecks
{
    private static readonly long[] ActiveHealthyStatuses = [200, 302];
    private static readonly long[] ActiveUnhealthyStatuses = [429, 404, 500, 501, 502, 503, 504, 505];
    private static readonly long[] PassiveHealthyStatuses =
        [200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308];
    private static readonly long[] PassiveUnhealthyStatuses = [429, 500, 503];
    private static readonly string[] CheckTypes = ["tcp", "http", "https", "grpc", "grpcs"];

    [GeneratedRegex("^[a-zA-Z0-9-_]+$")]
    private static partial Regex HeaderName();

    public static FieldDefinition Field { get; } = Record("healthchecks",
        [
            Record("active",
            [
                CheckType(),
                Seconds("timeout", 1),
                new FieldDefinition("concurrency", FieldType.Integer) { Default = 10, Between = (1, 1L << 31) },
                Typedefs.Path("http_path") with { Default = "/" },
                new FieldDefinition("https_sni", FieldType.String) { Custom = v => HostValidation.ValidateSni(v.GetValue<string>()) },
                Typedefs.Bool("https_verify_certificate", true, required: true),
                Headers("headers"),
                Record("healthy", [Seconds("interval", 0), Statuses(ActiveHealthyStatuses), Counter("successes")]),
                Record("unhealthy",
                [
                    Seconds("interval", 0), Statuses(ActiveUnhealthyStatuses),
                    Counter("tcp_failures"), Counter("timeouts"), Counter("http_failures"),
                ]),
            ]),
            Record("passive",
            [
                CheckType(),
                Record("healthy", [Statuses(PassiveHealthyStatuses), Counter("successes")]),
                Record("unhealthy", [Statuses(PassiveUnhealthyStatuses), Counter("tcp_failures"), Counter("timeouts"), Counter("http_failures")]),
            ]),
            new FieldDefinition("threshold", FieldType.Number) { Default = 0, Between = (0, 100) },
        ]);

    /// <summary>Kong's rule: active checks run when an interval is above 0; passive checks (the circuit breaker) when
    /// one of the unhealthy thresholds is above 0. Null or a missing part counts as disabled.</summary>
    public static IReadOnlyList<string> EnabledBy(JsonNode? healthchecks)
    {
        var on = new List<string>();
        foreach (var path in (string[])["active.healthy.interval", "active.unhealthy.interval",
                     "passive.unhealthy.tcp_failures", "passive.unhealthy.timeouts", "passive.unhealthy.http_failures"])
        {
            JsonNode? node = healthchecks;
            foreach (var part in path.Split('.')) node = (node as JsonObject)?[part];
            if (EntityJson.TryNumber(node, out var n) && n != 0) on.Add(path);
        }
        return on;
    }

    /// <summary>The active check type when it is one the health checker cannot run (grpc, grpcs); else null.</summary>
    public static string? UnsupportedActiveType(JsonNode? healthchecks) =>
        healthchecks?["active"]?["type"] is JsonValue v && v.TryGetValue<string>(out var type) && type is "grpc" or "grpcs" ? type : null;

    private static FieldDefinition Record(string name, IReadOnlyList<FieldDefinition> fields)
    {
        var record = new FieldDefinition(name, FieldType.Record) { Fields = fields };
        return record with { Default = DefaultsOf(record) };
    }

    /// <summary>A record's default is the object of its sub-fields' defaults (Kong's generated defaults table).</summary>
    private static JsonObject DefaultsOf(FieldDefinition record)
    {
        var o = new JsonObject();
        foreach (var f in record.Fields)
            if (f.Default is not null) o[f.Name] = f.Default.DeepClone();
        return o;
    }

    private static FieldDefinition CheckType() =>
        new("type", FieldType.String) { Default = "http", OneOf = CheckTypes };

    private static FieldDefinition Seconds(string name, double @default) =>
        new(name, FieldType.Number) { Default = @default, Between = (0, 65535) };

    private static FieldDefinition Counter(string name) =>
        new(name, FieldType.Integer) { Default = 0, Between = (0, 255) };

    private static FieldDefinition Statuses(long[] defaults) => new("http_statuses", FieldType.Array)
    {
        Default = new JsonArray([.. defaults.Select(s => (JsonNode?)JsonValue.Create(s))]),
        Elements = new FieldDefinition("http_status", FieldType.Integer) { Between = (100, 999) },
    };

    private static FieldDefinition Headers(string name) => new(name, FieldType.Map)
    {
        Keys = new FieldDefinition("header", FieldType.String) { Custom = v => ValidateHeaderName(v.GetValue<string>()) },
        Values = new FieldDefinition("values", FieldType.Array) { Elements = new FieldDefinition("value", FieldType.String) },
    };

    internal static string? ValidateHeaderName(string name) =>
        name.Length == 0 ? "no header name provided"
        : HeaderName().IsMatch(name) ? null
        : $"bad header name '{name}', allowed characters are A-Z, a-z, 0-9, '_', and '-'";
}
