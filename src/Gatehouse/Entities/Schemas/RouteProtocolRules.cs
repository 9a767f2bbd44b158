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
    private static readonly string[] WsFamily = ["ws", "wss"];
    private static readonly string[] StreamFamily = ["tcp", "tls", "udp", "tls_passthrough"];
    private static readonly string[] GrpcFamily = ["grpc", "grpcs"];

    public static string? ValidateProtocolMix(JsonNode value)
    {
        var protocols = Protocols(value);
        var used = ExclusiveSets.Where(set => set.Any(protocols.Contains)).ToList();
        return used.Count > 1
            ? "these sets are mutually exclusive: " + string.Join(", ", used.Select(s => "(" + EntityCheck.Quote(s) + ")"))
            : null;
    }

    public static IReadOnlyList<EntityCheck> Checks { get; } =
    [
        new ConditionalCheck("protocols", p => !Protocols(p).Any(SniProtocols.Contains), "snis", v => EntityCheck.IsSet(v) ? "length must be 0" : null)
        {
            ThenErr = "'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'",
        },
        Forbid(HttpFamily, "sources", "cannot set 'sources' when 'protocols' is 'http' or 'https'"),
        Forbid(HttpFamily, "destinations", "cannot set 'destinations' when 'protocols' is 'http' or 'https'"),
        new ConditionalAtLeastOneOfCheck("protocols", p => Protocols(p).Contains("https"),
            ["methods", "hosts", "headers", "paths", "snis"], "must set one of {0} when 'protocols' is 'https'"),
        new ConditionalAtLeastOneOfCheck("protocols", p => Protocols(p) is var ps && ps.Contains("http") && !ps.Contains("https"),
            ["methods", "hosts", "headers", "paths"], "must set one of {0} when 'protocols' is 'http'"),
        new ConditionalAtLeastOneOfCheck("protocols", p => Protocols(p).Contains("wss"),
            ["hosts", "headers", "paths", "snis"], "must set one of {0} when 'protocols' is 'wss'"),
        new ConditionalAtLeastOneOfCheck("protocols", p => Protocols(p) is var ps && ps.Contains("ws") && !ps.Contains("wss"),
            ["hosts", "headers", "paths"], "must set one of {0} when 'protocols' is 'ws'"),
        .. new[] { "methods", "hosts", "paths", "headers" }.Select(f =>
            Forbid(StreamFamily, f, $"cannot set '{f}' when 'protocols' is 'tcp', 'tls', 'tls_passthrough' or 'udp'")),
        new ConditionalAtLeastOneOfCheck("protocols", p => Protocols(p).Any(new[] { "tcp", "tls", "udp" }.Contains),
            ["sources", "destinations", "snis"], "must set one of {0} when 'protocols' is 'tcp', 'tls' or 'udp'"),
        new ConditionalCheck("protocols", p => Protocols(p).Contains("tls_passthrough"), "snis", v => EntityCheck.IsSet(v) ? null : "required")
        {
            ThenErr = "must set snis when 'protocols' is 'tls_passthrough'",
        },
        Forbid(GrpcFamily, "methods", "cannot set 'methods' when 'protocols' is 'grpc' or 'grpcs'"),
        Forbid(GrpcFamily, "sources", "cannot set 'sources' when 'protocols' is 'grpc' or 'grpcs'"),
        Forbid(GrpcFamily, "destinations", "cannot set 'destinations' when 'protocols' is 'grpc' or 'grpcs'"),
        new ConditionalAtLeastOneOfCheck("protocols", p => Protocols(p).Contains("grpcs"),
            ["hosts", "headers", "paths", "snis"], "must set one of {0} when 'protocols' is 'grpcs'"),
        new ConditionalAtLeastOneOfCheck("protocols", p => Protocols(p) is var ps && ps.Contains("grpc") && !ps.Contains("grpcs"),
            ["hosts", "headers", "paths"], "must set one of {0} when 'protocols' is 'grpc'"),
        Forbid(WsFamily, "sources", "cannot set 'sources' when 'protocols' is 'ws' or 'wss'"),
        Forbid(WsFamily, "destinations", "cannot set 'destinations' when 'protocols' is 'ws' or 'wss'"),
    ];

    private static ConditionalCheck Forbid(string[] family, string field, string error) =>
        new("protocols", p => Protocols(p).Any(family.Contains), field, v => EntityCheck.IsSet(v) ? error : null);

    private static HashSet<string> Protocols(JsonNode? value) =>
        value is JsonArray a ? [.. a.Select(x => x is JsonValue v && v.TryGetValue<string>(out var s) ? s : "")] : [];
}
