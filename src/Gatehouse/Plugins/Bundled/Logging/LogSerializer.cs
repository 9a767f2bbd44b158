using System.Text.Json.Nodes;

namespace Gatehouse.Plugins.Bundled.Logging;

/// <summary>Kong's basic log serializer (<c>kong.log.serialize</c>): request, response, route, service, consumer,
/// latencies, client ip and start time, as one JSON object per request.</summary>
public static class LogSerializer
{
    public static JsonObject Serialize(Kong kong)
    {
        ArgumentNullException.ThrowIfNull(kong);
        var http = kong.Context.HttpContext;
        var timings = kong.Context.Timings;
        var request = new JsonObject
        {
            ["method"] = http.Request.Method,
            // Kong: request_uri as received
            ["uri"] = Proxy.RawRequestTarget.PathAndQuery(http),
            ["url"] = $"{http.Request.Scheme}://{http.Request.Host}{Proxy.RawRequestTarget.PathAndQuery(http)}",
            ["size"] = http.Request.ContentLength ?? 0,
            ["querystring"] = Collection(http.Request.Query.Select(q => (q.Key, q.Value.ToString()))),
            ["headers"] = Collection(http.Request.Headers.Select(h => (h.Key.ToLowerInvariant(), h.Value.ToString()))),
        };
        var response = new JsonObject
        {
            ["status"] = http.Response.StatusCode,
            ["size"] = kong.Context.ResponseBodyBytes,
            ["headers"] = Collection(http.Response.Headers.Select(h => (h.Key.ToLowerInvariant(), h.Value.ToString()))),
        };
        return new JsonObject
        {
            ["request"] = request,
            ["response"] = response,
            ["route"] = kong.Route is { } r ? new JsonObject { ["id"] = r.Id.ToString(), ["name"] = r.Name } : null,
            ["service"] = kong.Service is { } s ? new JsonObject { ["id"] = s.Id.ToString(), ["name"] = s.Name, ["host"] = s.Host, ["port"] = s.Port } : null,
            ["consumer"] = kong.Consumer is { } c ? new JsonObject { ["id"] = c.Id.ToString(), ["username"] = c.Username, ["custom_id"] = c.CustomId } : null,
            ["latencies"] = new JsonObject
            {
                ["request"] = timings.TotalMs,
                ["kong"] = timings.ProxyLatencyMs < 0 ? timings.TotalMs : timings.ProxyLatencyMs,
                ["proxy"] = timings.UpstreamLatencyMs,
            },
            ["client_ip"] = kong.ClientIp,
            ["upstream_uri"] = UpstreamUri(kong.Context),
            ["tries"] = Tries(kong.Context),
            ["started_at"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - timings.TotalMs,
        };
    }

    /// <summary>Kong's <c>upstream_uri</c>: the path sent upstream with the request's query (a bare trailing "?" kept).</summary>
    private static string? UpstreamUri(Proxy.Pipeline.ProxyContext context)
    {
        if (context.UpstreamPath is not { Length: > 0 } path) return context.UpstreamPath;
        var query = context.HttpContext.Request.QueryString;
        if (query.HasValue) return path + query.Value;
        return Proxy.RawRequestTarget.PathAndQuery(context.HttpContext).EndsWith('?') ? path + "?" : path;
    }

    /// <summary>Kong's <c>tries</c> (balancer_data.tries): one entry per peer tried, with <c>ip</c>, <c>port</c>,
    /// <c>balancer_start</c> (Unix ms) and <c>balancer_latency</c> (ms spent choosing the peer), and <c>state</c>
    /// "failed" with its <c>code</c> for a failed try; null when no peer was chosen.</summary>
    private static JsonArray? Tries(Proxy.Pipeline.ProxyContext context)
    {
        var tries = Proxy.PeerTries.Of(context);
        if (tries.Count == 0) return null;
        var array = new JsonArray();
        foreach (var t in tries)
        {
            var entry = new JsonObject
            {
                ["balancer_start"] = t.StartedAtMs,
                ["balancer_latency"] = 0, // a pick takes microseconds: 0 ms, as Kong reports for its balancer
                ["ip"] = t.Peer.Address.ToString(),
                ["port"] = t.Peer.Port,
            };
            if (t.FailedCode is { } code)
            {
                entry["state"] = "failed";
                entry["code"] = code;
            }
            array.Add((JsonNode)entry);
        }
        return array;
    }

    private static JsonObject Collection(IEnumerable<(string Key, string Value)> items)
    {
        var o = new JsonObject();
        foreach (var (k, v) in items) o[k] = v;
        return o;
    }
}
