using System.Text.Json.Nodes;
using Gatehouse.Model;

namespace Gatehouse.Entities.Schemas;

/// <summary>Kong 3.9's <c>upstreams</c>: a virtual hostname that services name in <c>host</c> to balance over the
/// upstream's targets. The schema, Kong's entity checks and shorthands, the refusals of what Gatehouse does not
/// implement yet, and the conversion to <see cref="UpstreamModel"/>.</summary>
public static class UpstreamEntity
{
    public static readonly IReadOnlyList<string> Algorithms = ["consistent-hashing", "least-connections", "round-robin", "latency"];
    public static readonly IReadOnlyList<string> HashInputs = ["none", "consumer", "ip", "header", "cookie", "path", "query_arg", "uri_capture"];

    /// <summary>Builds the schema; <paramref name="supportsAlgorithm"/> says which algorithms the data plane balances
    /// with (the others are refused, never accepted and ignored). Entities cannot ask the balancers themselves.</summary>
    public static EntitySchema Create(Func<string, bool> supportsAlgorithm)
    {
        ArgumentNullException.ThrowIfNull(supportsAlgorithm);
        return new()
        {
            Name = "upstreams",
            SingularName = "upstream",
            AddToConfig = (config, rows) => config with { Upstreams = [.. rows.Select(ToModel)] },
            Fields =
            [
                Typedefs.Id(),
                Typedefs.AutoTimestamp("created_at"),
                new FieldDefinition("name", FieldType.String)
                {
                    Required = true, Unique = true, Custom = v => ValidateName(v.GetValue<string>()),
                    Description = "This is a hostname, which must be equal to the host of a Service.",
                },
                Typedefs.AutoTimestamp("updated_at"),
                new FieldDefinition("algorithm", FieldType.String) { Default = "round-robin", OneOf = Algorithms },
                HashOn("hash_on"),
                HashOn("hash_fallback"),
                HeaderName("hash_on_header"),
                HeaderName("hash_fallback_header"),
                new FieldDefinition("hash_on_cookie", FieldType.String) { Custom = v => ValidateToken(v.GetValue<string>()) },
                Typedefs.Path("hash_on_cookie_path") with { Default = "/" },
                SimpleParam("hash_on_query_arg"),
                SimpleParam("hash_fallback_query_arg"),
                SimpleParam("hash_on_uri_capture"),
                SimpleParam("hash_fallback_uri_capture"),
                new FieldDefinition("slots", FieldType.Integer) { Default = 10000, Between = (10, 1 << 16) },
                UpstreamHealthchecks.Field,
                Typedefs.Tags(),
                new FieldDefinition("host_header", FieldType.String) { Custom = v => ValidateHostWithOptionalPort(v.GetValue<string>()) },
                Typedefs.Foreign("client_certificate", "certificates"),
                Typedefs.Bool("use_srv_name", false),
            ],
            Checks =
            [
                Requires("hash_on", "header", "hash_on_header"),
                Requires("hash_fallback", "header", "hash_fallback_header"),
                Requires("hash_on", "cookie", "hash_on_cookie"),
                Requires("hash_fallback", "cookie", "hash_on_cookie"),
                FallbackOneOf("none", ["none"]),
                FallbackOneOf("cookie", ["none"]),
                FallbackOneOf("consumer", ["none", "ip", "header", "cookie", "path", "query_arg", "uri_capture"]),
                FallbackOneOf("ip", ["none", "consumer", "header", "cookie", "path", "query_arg", "uri_capture"]),
                FallbackOneOf("path", ["none", "consumer", "header", "cookie", "query_arg", "ip", "uri_capture"]),
                Distinct("hash_on_header", "hash_fallback_header"),
                Requires("hash_on", "query_arg", "hash_on_query_arg"),
                Requires("hash_fallback", "query_arg", "hash_fallback_query_arg"),
                Distinct("hash_on_query_arg", "hash_fallback_query_arg"),
                Requires("hash_on", "uri_capture", "hash_on_uri_capture"),
                Requires("hash_fallback", "uri_capture", "hash_fallback_uri_capture"),
                Distinct("hash_on_uri_capture", "hash_fallback_uri_capture"),
                // :: what the data plane does not do yet (issue 12): refused, never accepted and ignored
                new ConditionalCheck("algorithm", a => a is JsonValue v && v.TryGetValue<string>(out var s) && !supportsAlgorithm(s), "algorithm",
                    a => "not supported by Gatehouse yet: algorithm '" + a!.GetValue<string>() + "' (the balancer is not implemented)"),
                // the health checker probes over tcp, http and https only
                new ConditionalCheck("healthchecks", h => UpstreamHealthchecks.EnabledBy(h).Count > 0 && UpstreamHealthchecks.UnsupportedActiveType(h) is not null,
                    "healthchecks", h => "not supported by Gatehouse yet: health checks of active.type '" + UpstreamHealthchecks.UnsupportedActiveType(h) + "'"),
                new NotSupportedCheck("use_srv_name", "the Host header sent to an SRV target would be the record's target name; not implemented"),
            ],
            // Kong's shorthands keep algorithm and hash_on consistent: least-connections and latency reset hash_on;
            // hash_on none means round-robin, any other hash_on means consistent-hashing
            Shorthands =
            [
                new ShorthandField("algorithm", FieldType.String, v => v.GetValue<string>() is "least-connections" or "latency"
                    ? new JsonObject { ["algorithm"] = v.DeepClone(), ["hash_on"] = null }
                    : new JsonObject { ["algorithm"] = v.DeepClone() }),
                new ShorthandField("hash_on", FieldType.String, v => v.GetValue<string>() == "none"
                    ? new JsonObject { ["hash_on"] = "none", ["algorithm"] = "round-robin" }
                    : new JsonObject { ["hash_on"] = v.DeepClone(), ["algorithm"] = "consistent-hashing" }),
            ],
        };
    }

    public static UpstreamModel ToModel(EntitySchema schema, JsonObject e)
    {
        var r = new EntityReader(schema, e);
        return new()
        {
            Id = r.Guid("id"),
            Name = r.RequiredString("name"),
            Algorithm = r.RequiredString("algorithm"),
            HashOn = r.RequiredString("hash_on"),
            HashFallback = r.RequiredString("hash_fallback"),
            HashOnHeader = r.String("hash_on_header"),
            HashFallbackHeader = r.String("hash_fallback_header"),
            HashOnCookie = r.String("hash_on_cookie"),
            HashOnCookiePath = r.RequiredString("hash_on_cookie_path"),
            HashOnQueryArg = r.String("hash_on_query_arg"),
            HashFallbackQueryArg = r.String("hash_fallback_query_arg"),
            HashOnUriCapture = r.String("hash_on_uri_capture"),
            HashFallbackUriCapture = r.String("hash_fallback_uri_capture"),
            Slots = r.Int("slots"),
            HostHeader = r.String("host_header"),
            UseSrvName = r.Bool("use_srv_name"),
            ClientCertificateId = r.ForeignId("client_certificate"),
            HealthchecksJson = (e["healthchecks"] ?? schema.Field("healthchecks")!.Default)?.ToJsonString() ?? "{}",
            HealthThreshold = EntityJson.TryNumber(e["healthchecks"]?["threshold"], out var threshold) ? threshold : 0,
            Tags = r.Strings("tags"),
        };
    }

    private static UpstreamModel ToModel(JsonObject e) => ToModel(Schema, e);

    /// <summary>The schema with every algorithm allowed: for the model conversion and for tools that only read.</summary>
    public static EntitySchema Schema { get; } = Create(_ => true);

    private static FieldDefinition HashOn(string name) => new(name, FieldType.String) { Default = "none", OneOf = HashInputs };

    private static FieldDefinition HeaderName(string name) =>
        new(name, FieldType.String) { Custom = v => UpstreamHealthchecks.ValidateHeaderName(v.GetValue<string>()) };

    private static FieldDefinition SimpleParam(string name) => new(name, FieldType.String) { LenMin = 1 };

    private static ConditionalCheck Requires(string ifField, string value, string thenField) =>
        new(ifField, v => Is(v, value), thenField, v => v is null ? "required field missing" : null);

    private static ConditionalCheck FallbackOneOf(string hashOn, string[] allowed) =>
        new("hash_on", v => Is(v, hashOn), "hash_fallback",
            v => v is JsonValue j && j.TryGetValue<string>(out var s) && allowed.Contains(s) ? null : "expected one of: " + string.Join(", ", allowed));

    /// <summary>Kong's <c>distinct</c>: two fields, when both set, must differ.</summary>
    private static CustomEntityCheck Distinct(string a, string b) => new([a, b], e =>
        e[a] is JsonValue x && e[b] is JsonValue y && JsonNode.DeepEquals(x, y) ? $"values of these fields must be distinct: '{a}', '{b}'" : null);

    private static bool Is(JsonNode? v, string value) => v is JsonValue j && j.TryGetValue<string>(out var s) && s == value;

    /// <summary>Kong's upstream name rule: a hostname, not an IP address, without a port.</summary>
    internal static string? ValidateName(string name)
    {
        var label = Utf8Check.FirstInvalidPosition(name) is null ? $"Invalid name ('{name}')" : "Invalid name";
        var parsed = TargetAddress.Parse(name);
        if (parsed is null) return label + "; must be a valid hostname";
        if (parsed.Kind != AddressKind.Name) return label + "; no ip addresses allowed";
        if (parsed.Port is not null) return label + "; no port allowed";
        return null;
    }

    private static string? ValidateHostWithOptionalPort(string host) =>
        TargetAddress.Parse(host) is null ? $"invalid hostname: {host}" : null;

    /// <summary>Kong's <c>validate_http_token</c> (cookie names).</summary>
    private static string? ValidateToken(string token) =>
        token.Any(c => c < 32 || c == 127 || " \t()<>@,;:\\\"/?={}[]".Contains(c))
            ? "contains one or more invalid characters. ASCII control characters (0-31;127), space, tab and the characters ()<>@,;:\\\"/?={}[] are not allowed."
            : null;
}
