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
}
