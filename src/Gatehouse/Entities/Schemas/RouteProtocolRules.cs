using System.Text.Json.Nodes;

namespace Gatehouse.Entities.Schemas;

/// <summary>
/// The protocol-dependent route rules that Kong states in <c>routes_subschemas.lua</c> (http, stream, grpc,
/// ws), expressed as entity checks keyed on the <c>protocols</c> family.
/// </summary>
internal static class RouteProtocolRules
{
    private static readonly string[][] ExclusiveSets =
        [["http", "https"], ["tcp", "tls", "udp"], ["tls_passthrough"], ["grpc", "grpcs"], ["ws", "wss"]];

    private static readonly string[] SniProtocols = ["grpcs", "https", "tls", "tls_passthrough"];
    private static readonly string[] HttpFamily = ["http", "https"];
    private static readonly string[] StreamFamily = ["tcp", "tls", "udp", "tls_passthrough"];
    private static readonly string[] GrpcFamily = ["grpc", "grpcs"];

    private static readonly string[] WebSocketFamily = ["ws", "wss"];

    /// <summary>Kong's mutual-exclusion rule, then Gatehouse's refusal of the protocols it has no proxy for:
    /// stream routes (no stream proxy) and ws/wss routes (Kong Enterprise's WebSocket routes; an upgrade request
    /// is proxied on an http/https route, as in Kong OSS). Accepting them would store routes that never match.</summary>
    public static string? ValidateProtocols(JsonNode value)
    {
        var protocols = Protocols(value);
        var usedSets = 0;
        foreach (var set in ExclusiveSets) if (Intersects(set, protocols)) usedSets++;
        if (usedSets > 1)
            return "these sets are mutually exclusive: " + string.Join(", ", ExclusiveSets.Where(set => Intersects(set, protocols))
                .Select(s => "(" + EntityCheck.Quote(s) + ")"));
        if (Intersects(protocols, StreamFamily)) return StreamRoutesUnsupported;
        if (Intersects(protocols, WebSocketFamily)) return WebSocketRoutesUnsupported;
        return null;
    }

    /// <summary>A plugin whose protocols are all stream or ws/wss ones could never run here (no such routes exist):
    /// refused rather than stored and ignored. Listing them beside http-family protocols is harmless, as Kong's
    /// exports do.</summary>
    internal static string? PluginProtocolsCheck(JsonNode value)
    {
        var protocols = Protocols(value);
        return protocols.Length > 0 && protocols.All(p => StreamFamily.Contains(p) || WebSocketFamily.Contains(p))
            ? "a plugin that runs only on stream or ws/wss protocols never runs on Gatehouse (it has no stream proxy and no ws/wss routes)"
            : null;
    }

    internal const string StreamRoutesUnsupported = "stream routes are not supported by Gatehouse (it has no TCP/TLS/UDP proxy)";
    internal const string WebSocketRoutesUnsupported =
        "ws and wss routes are not supported by Gatehouse (WebSocket upgrade requests are proxied on http and https routes)";

    /// <summary>Kong picks the subschema from the first protocol listed; so do these checks.</summary>
    public static IReadOnlyList<EntityCheck> Checks { get; } =
    [
        new ConditionalCheck("protocols", p => !Intersects(Protocols(p), SniProtocols), "snis", v => EntityCheck.IsSet(v) ? "length must be 0" : null)
        {
            ThenErr = "'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'",
        },
        // http subschema
        Forbid(HttpFamily, "sources", "cannot set 'sources' when 'protocols' is 'http' or 'https'"),
        Forbid(HttpFamily, "destinations", "cannot set 'destinations' when 'protocols' is 'http' or 'https'"),
        new ConditionalAtLeastOneOfCheck("protocols", p => InFamily(p, HttpFamily) && Protocols(p).Contains("https"),
            ["methods", "hosts", "headers", "paths", "snis"], "must set one of {0} when 'protocols' is 'https'"),
        new ConditionalAtLeastOneOfCheck("protocols", p => InFamily(p, HttpFamily) && !Protocols(p).Contains("https"),
            ["methods", "hosts", "headers", "paths"], "must set one of {0} when 'protocols' is 'http'"),
        // stream subschema
        .. new[] { "methods", "hosts", "paths", "headers" }.Select(f =>
            Forbid(StreamFamily, f, $"cannot set '{f}' when 'protocols' is 'tcp', 'tls', 'tls_passthrough' or 'udp'")),
        new ConditionalAtLeastOneOfCheck("protocols", p => InFamily(p, StreamFamily) && Protocols(p).All(new[] { "tcp", "tls", "udp" }.Contains),
            ["sources", "destinations", "snis"], "must set one of {0} when 'protocols' is 'tcp', 'tls' or 'udp'"),
        new ConditionalAtLeastOneOfCheck("protocols", p => InFamily(p, StreamFamily) && Protocols(p).All("tls_passthrough".Equals),
            ["snis"], "must set snis when 'protocols' is 'tls_passthrough'"),
        // grpc subschema
        Forbid(GrpcFamily, "strip_path", "cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs'", v => v is JsonValue b && b.TryGetValue<bool>(out var on) && on),
        Forbid(GrpcFamily, "methods", "cannot set 'methods' when 'protocols' is 'grpc' or 'grpcs'"),
        Forbid(GrpcFamily, "sources", "cannot set 'sources' when 'protocols' is 'grpc' or 'grpcs'"),
        Forbid(GrpcFamily, "destinations", "cannot set 'destinations' when 'protocols' is 'grpc' or 'grpcs'"),
        new ConditionalAtLeastOneOfCheck("protocols", p => InFamily(p, GrpcFamily) && Protocols(p).Contains("grpcs"),
            ["hosts", "headers", "paths", "snis"], "must set one of {0} when 'protocols' is 'grpcs'"),
        new ConditionalAtLeastOneOfCheck("protocols", p => InFamily(p, GrpcFamily) && !Protocols(p).Contains("grpcs"),
            ["hosts", "headers", "paths"], "must set one of {0} when 'protocols' is 'grpc'"),
    ];

    /// <summary>grpc routes default to <c>strip_path = false</c> (the grpc subschema's default); others to true.</summary>
    public static JsonNode StripPathDefault(JsonObject input) =>
        JsonValue.Create(!InFamily(input["protocols"], GrpcFamily));

    private static ConditionalCheck Forbid(string[] family, string field, string error, Func<JsonNode?, bool>? isSet = null) =>
        new("protocols", p => InFamily(p, family), field, v => (isSet ?? EntityCheck.IsSet)(v) ? error : null);

    /// <summary>Whether the two lists share a protocol; a loop (this runs for every route), not LINQ over delegates.</summary>
    private static bool Intersects(string[] a, string[] b)
    {
        foreach (var x in a) if (Array.IndexOf(b, x) >= 0) return true;
        return false;
    }

    private static bool InFamily(JsonNode? protocols, string[] family) =>
        protocols is JsonArray { Count: > 0 } a && a[0] is JsonValue v && v.TryGetValue<string>(out var first) && family.Contains(first);

    /// <summary>The protocols listed (a validated set: no repeats); an array, not a set: each route check reads them, and
    /// a list of one or two is scanned faster than a set is built.</summary>
    private static string[] Protocols(JsonNode? value)
    {
        if (value is not JsonArray a) return [];
        var protocols = new string[a.Count];
        for (var i = 0; i < protocols.Length; i++) protocols[i] = a[i] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
        return protocols;
    }
}
