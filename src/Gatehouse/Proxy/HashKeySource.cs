using System.Globalization;
using Gatehouse.Model;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Proxy;

/// <summary>
/// Where a consistent-hashing upstream takes a request's key from (Kong's <c>get_value_to_hash</c>): <c>hash_on</c>,
/// then <c>hash_fallback</c> when the first finds nothing (<c>consumer</c>: the id of the consumer an authentication
/// plugin identified). Built once per upstream per snapshot; reading a key
/// allocates only the key itself. <c>hash_on: cookie</c> without the cookie in the request makes one up and has the
/// response set it (Kong's <c>hash_cookie</c>).
/// </summary>
public sealed class HashKeySource
{
    private readonly (string Kind, string? Name)[] _sources;
    private readonly string? _cookie;
    private readonly string _cookiePath;

    public HashKeySource(UpstreamModel upstream)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        var sources = new List<(string, string?)>();
        if (upstream.HashOn != "none")
        {
            sources.Add((upstream.HashOn, NameFor(upstream.HashOn, upstream.HashOnHeader, upstream.HashOnQueryArg, upstream.HashOnUriCapture, upstream.HashOnCookie)));
            if (upstream.HashFallback != "none")
                sources.Add((upstream.HashFallback, NameFor(upstream.HashFallback, upstream.HashFallbackHeader, upstream.HashFallbackQueryArg,
                    upstream.HashFallbackUriCapture, upstream.HashOnCookie)));
        }
        _sources = [.. sources];
        _cookie = upstream.HashOnCookie;
        _cookiePath = upstream.HashOnCookiePath;
    }

    /// <summary>False for <c>hash_on: none</c>: no key, nothing read.</summary>
    public bool Hashes => _sources.Length > 0;

    private static string? NameFor(string kind, string? header, string? queryArg, string? capture, string? cookie) => kind switch
    {
        "header" => header,
        "query_arg" => queryArg,
        "uri_capture" => capture,
        "cookie" => cookie,
        _ => null,
    };

    /// <summary>The request's key, or null when no source finds one (the balancer then hashes nothing, as Kong's "").</summary>
    public string? KeyFor(ProxyContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.HttpContext.Request;
        foreach (var (kind, name) in _sources)
        {
            string? key = kind switch
            {
                "consumer" => context.AuthenticatedConsumerId?.ToString(),
                "ip" => context.HttpContext.Connection.RemoteIpAddress?.ToString(),
                "path" => context.RequestPath,
                // nginx's $http_<name>: repeated headers joined
                "header" => request.Headers.TryGetValue(name!, out var h) && h.Count > 0 ? (h.Count == 1 ? h[0] : string.Join(", ", h.ToArray())) : null,
                "query_arg" => QueryArg(request.Query, name!),
                "uri_capture" => Capture(context, name!),
                "cookie" => request.Cookies[name!] ?? NewCookie(context),
                _ => null,
            };
            if (key is not null) return key;
        }
        return null;
    }

    /// <summary>Kong: several values sorted and joined with ","; an argument without value is "true".</summary>
    private static string? QueryArg(Microsoft.AspNetCore.Http.IQueryCollection query, string name)
    {
        if (!query.TryGetValue(name, out var values) || values.Count == 0) return null;
        if (values.Count == 1) return values[0] is { Length: > 0 } v ? v : "true";
        var all = values.Select(v => string.IsNullOrEmpty(v) ? "true" : v!).ToArray();
        Array.Sort(all, StringComparer.Ordinal);
        return string.Join(',', all);
    }

    private static string? Capture(ProxyContext context, string name)
    {
        var captures = context.Captures;
        if (captures.Named.TryGetValue(name, out var named)) return named;
        return int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n < captures.Groups.Count ? captures.Groups[n] : null;
    }

    /// <summary>Kong: a new UUID as the key, and the response sets it so that the client's next request sticks.</summary>
    private string NewCookie(ProxyContext context)
    {
        var value = Guid.NewGuid().ToString();
        context.HashCookie = $"{_cookie}={value}; Path={_cookiePath}; Same-Site=Lax; HttpOnly";
        return value;
    }
}
