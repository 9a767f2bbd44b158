using Gatehouse.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gatehouse.Proxy;

/// <summary>The request target as the client sent it (nginx's <c>$request_uri</c>): Kestrel's raw target, not
/// ASP.NET's decoded Path, which cannot tell <c>%2F</c> from <c>/</c> and is re-encoded (<c>%252F</c>) when written
/// back into a URI. An absolute-form target is reduced to its path and query, as nginx does.</summary>
internal static class RawRequestTarget
{
    /// <summary>The raw target, or the decoded path and query when the server keeps no raw target (test hosts).</summary>
    public static string Get(HttpContext http) =>
        http.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw
            ? raw
            : (http.Request.Path.Value is { Length: > 0 } p ? p : "/") + http.Request.QueryString.Value;

    /// <summary>Path and query as received (origin form).</summary>
    public static string PathAndQuery(HttpContext http)
    {
        var raw = Get(http);
        if (!UriNormalizer.TrySplitTarget(raw, out var path, out var query)) return "/";
        return path.Length + query.Length == raw.Length ? raw : string.Concat(path, query);
    }

    /// <summary>Path as received, without the query (Kong's X-Forwarded-Path). Reuses the server's path string
    /// when it is the same text.</summary>
    public static string Path(HttpContext http)
    {
        var raw = Get(http);
        if (!UriNormalizer.TrySplitTarget(raw, out var path, out _)) return "/";
        if (path.Length == raw.Length) return raw;
        return http.Request.Path.Value is { } decoded && path.SequenceEqual(decoded) ? decoded : new string(path);
    }
}
