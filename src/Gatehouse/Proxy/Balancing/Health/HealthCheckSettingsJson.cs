using System.Text.Json.Nodes;

namespace Gatehouse.Proxy.Balancing.Health;

/// <summary>Reads an upstream's <c>healthchecks</c> record (as stored: every default filled in by the schema) into
/// <see cref="HealthCheckSettings"/>. A missing field takes Kong's default.</summary>
public static class HealthCheckSettingsJson
{
    /// <exception cref="NotSupportedException">an active <c>type</c> with no counterpart (grpc, grpcs)</exception>
    public static HealthCheckSettings Parse(string json)
    {
        var root = JsonNode.Parse(json) as JsonObject ?? [];
        var d = HealthCheckSettings.Default;
        var active = root["active"] as JsonObject ?? [];
        var passive = root["passive"] as JsonObject ?? [];
        var ah = active["healthy"] as JsonObject ?? [];
        var au = active["unhealthy"] as JsonObject ?? [];
        var ph = passive["healthy"] as JsonObject ?? [];
        var pu = passive["unhealthy"] as JsonObject ?? [];
        var type = Str(active["type"]) ?? "http";
        var checkType = type switch
        {
            "tcp" => HealthCheckType.Tcp,
            "http" => HealthCheckType.Http,
            "https" => HealthCheckType.Https,
            _ => throw new NotSupportedException($"healthchecks.active.type '{type}'"),
        };
        return new HealthCheckSettings(
            new ActiveHealthCheck(
                checkType,
                Seconds(active["timeout"], d.Active.Timeout),
                Int(active["concurrency"], d.Active.Concurrency),
                Str(active["http_path"]) ?? d.Active.HttpPath,
                Str(active["https_sni"]),
                active["https_verify_certificate"] is JsonValue v && v.TryGetValue<bool>(out var verify) ? verify : d.Active.HttpsVerifyCertificate,
                Headers(active["headers"]),
                new ActiveHealthy(Seconds(ah["interval"], TimeSpan.Zero), Statuses(ah["http_statuses"], d.Active.Healthy.HttpStatuses),
                    Int(ah["successes"], 0)),
                new ActiveUnhealthy(Seconds(au["interval"], TimeSpan.Zero), Statuses(au["http_statuses"], d.Active.Unhealthy.HttpStatuses),
                    Int(au["tcp_failures"], 0), Int(au["timeouts"], 0), Int(au["http_failures"], 0))),
            new PassiveHealthCheck(
                new PassiveHealthy(Statuses(ph["http_statuses"], d.Passive.Healthy.HttpStatuses), Int(ph["successes"], 0)),
                new PassiveUnhealthy(Statuses(pu["http_statuses"], d.Passive.Unhealthy.HttpStatuses),
                    Int(pu["tcp_failures"], 0), Int(pu["timeouts"], 0), Int(pu["http_failures"], 0))));
    }

    private static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static double? Number(JsonNode? node) =>
        node is JsonValue v && (v.TryGetValue<double>(out var d) || (v.TryGetValue<long>(out var l) && (d = l) == l)) ? d : null;

    private static int Int(JsonNode? node, int fallback) => Number(node) is { } n ? (int)Math.Min(n, int.MaxValue) : fallback;

    private static TimeSpan Seconds(JsonNode? node, TimeSpan fallback) => Number(node) is { } n ? TimeSpan.FromSeconds(n) : fallback;

    private static IReadOnlyList<int> Statuses(JsonNode? node, IReadOnlyList<int> fallback) =>
        node is JsonArray a ? [.. a.Select(s => Number(s) is { } n ? (int)n : -1).Where(s => s >= 0)] : fallback;

    private static IReadOnlyDictionary<string, IReadOnlyList<string>> Headers(JsonNode? node)
    {
        var headers = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        if (node is not JsonObject o) return headers;
        foreach (var (name, values) in o)
            headers[name] = values switch
            {
                JsonArray a => [.. a.Select(Str).OfType<string>()],
                _ when Str(values) is { } one => [one],
                _ => [],
            };
        return headers;
    }
}
