using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Plugins;

/// <summary><c>kong.request</c>: reads the client request, and changes what is sent upstream.</summary>
public sealed class KongRequest(HttpContext http, ProxyContext? context = null)
{
    public string Method => http.Request.Method;
    /// <summary><c>kong.request.get_path()</c>: the normalised path the router matched on (<c>//a</c> and <c>/a</c>
    /// are one path for rate limits and cache keys too).</summary>
    public string Path => context?.RequestPath ?? http.Request.Path.Value ?? "/";
    public string Scheme => http.Request.Scheme;
    public string Host => http.Request.Host.Host;
    public int Port => http.Request.Host.Port ?? http.Connection.LocalPort;
    public IHeaderDictionary Headers => http.Request.Headers;
    public IQueryCollection Query => http.Request.Query;

    /// <summary>The first value of a request header as text: its bytes read as UTF-8 (header values are byte
    /// strings, <see cref="ProxyWasm.Http.HeaderBytes"/>; ASCII costs nothing).</summary>
    public string? Header(string name) =>
        http.Request.Headers.TryGetValue(name, out var v) && v.Count > 0 && v[0] is { } value ? ProxyWasm.Http.HeaderBytes.ToText(value) : null;

    public string? QueryArg(string name) => http.Request.Query.TryGetValue(name, out var v) && v.Count > 0 ? v[0] : null;

    /// <summary><c>kong.service.request.set_header</c> (the text goes out as its UTF-8 bytes); null clears it.</summary>
    public void SetHeader(string name, string? value)
    {
        if (value is null) http.Request.Headers.Remove(name);
        else http.Request.Headers[name] = ProxyWasm.Http.HeaderBytes.FromText(value);
    }

    /// <summary>Replaces the query string sent upstream.</summary>
    public void SetQuery(QueryString query) => http.Request.QueryString = query;

    /// <summary><c>kong.request.get_raw_body</c>: the whole body, buffered and rewound so the upstream still gets it;
    /// null when it is larger than <paramref name="limit"/> bytes (Kong: beyond the body buffer).</summary>
    public async ValueTask<byte[]?> RawBodyAsync(long limit = 1 << 20)
    {
        var request = http.Request;
        if (request.ContentLength is 0) return [];
        if (request.ContentLength > limit) return null;
        request.EnableBuffering();
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
        {
            if (buffer.Length + n > limit)
            {
                request.Body.Position = 0;
                return null;
            }
            buffer.Write(chunk, 0, n);
        }
        request.Body.Position = 0;
        return buffer.ToArray();
    }

    /// <summary><c>kong.request.get_body</c>: the JSON object, form or multipart body, or null (other types, bodies
    /// that do not parse or exceed <paramref name="limit"/>).</summary>
    public async ValueTask<Bodies.RequestBody?> BodyAsync(long limit = 1 << 20) =>
        await RawBodyAsync(limit) is { } raw ? Bodies.RequestBody.Parse(http.Request.ContentType, raw) : null;

    /// <summary><c>kong.service.request.set_raw_body</c>: the upstream gets <paramref name="body"/> with its
    /// Content-Length (chunked framing dropped).</summary>
    public void SetRawBody(byte[] body) => ReplaceBody(http.Request, body);

    internal static void ReplaceBody(HttpRequest request, byte[] body)
    {
        ArgumentNullException.ThrowIfNull(body);
        request.Headers.Remove("Transfer-Encoding");
        request.Body = new MemoryStream(body, writable: false);
        request.ContentLength = body.Length;
    }
}
