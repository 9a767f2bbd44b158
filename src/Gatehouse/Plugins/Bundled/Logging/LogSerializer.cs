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
            ["upstream_uri"] = kong.Context.UpstreamPath,
            ["started_at"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - timings.TotalMs,
        };
    }

    private static JsonObject Collection(IEnumerable<(string Key, string Value)> items)
    {
        var o = new JsonObject();
        foreach (var (k, v) in items) o[k] = v;
        return o;
    }
}
