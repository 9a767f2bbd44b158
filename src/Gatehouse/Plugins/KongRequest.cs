using Microsoft.AspNetCore.Http;

namespace Gatehouse.Plugins;

/// <summary><c>kong.request</c>: reads the client request, and changes what is sent upstream.</summary>
public sealed class KongRequest(HttpContext http)
{
    public string Method => http.Request.Method;
    public string Path => http.Request.Path.Value ?? "/";
    public string Scheme => http.Request.Scheme;
    public string Host => http.Request.Host.Host;
    public int Port => http.Request.Host.Port ?? http.Connection.LocalPort;
    public IHeaderDictionary Headers => http.Request.Headers;
    public IQueryCollection Query => http.Request.Query;

    public string? Header(string name) => http.Request.Headers.TryGetValue(name, out var v) && v.Count > 0 ? v[0] : null;

    public string? QueryArg(string name) => http.Request.Query.TryGetValue(name, out var v) && v.Count > 0 ? v[0] : null;

    /// <summary><c>kong.service.request.set_header</c>; null clears it.</summary>
    public void SetHeader(string name, string? value)
    {
        if (value is null) http.Request.Headers.Remove(name);
        else http.Request.Headers[name] = value;
    }

    /// <summary>Replaces the query string sent upstream.</summary>
    public void SetQuery(QueryString query) => http.Request.QueryString = query;

    /// <summary><c>kong.request.get_body</c> for form and JSON bodies: top-level fields as strings. The body stays
    /// readable for the upstream (buffered, rewound). Bodies above <paramref name="limit"/> bytes are not parsed.</summary>
    public async ValueTask<IReadOnlyDictionary<string, string>> BodyFieldsAsync(long limit = 1 << 20)
    {
        var request = http.Request;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        if (request.ContentLength is null or 0 || request.ContentLength > limit || request.ContentType is not { } type) return fields;
        request.EnableBuffering();
        try
        {
            if (type.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
            {
                var form = await request.ReadFormAsync(http.RequestAborted);
                foreach (var (k, v) in form) fields[k] = v.ToString();
            }
            else if (type.Contains("json", StringComparison.OrdinalIgnoreCase))
            {
                var node = await System.Text.Json.Nodes.JsonNode.ParseAsync(request.Body, cancellationToken: http.RequestAborted);
                if (node is System.Text.Json.Nodes.JsonObject o)
                    foreach (var (k, v) in o)
                        if (v is System.Text.Json.Nodes.JsonValue value) fields[k] = value.ToString();
            }
        }
        catch (System.Text.Json.JsonException) { }
        catch (InvalidDataException) { }
        request.Body.Position = 0;
        return fields;
    }
}
