using System.Globalization;
using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Wasm;

/// <summary>The <c>ngx.&lt;var&gt;</c> properties (§7.1) that have a meaning on our request: nginx variable names
/// mapped onto the ASP.NET request, so filters written for Kong read the same values. Only
/// <c>ngx.upstream_uri</c> is writable (as in Kong, where it is a settable variable); the others are read-only.</summary>
internal static class NgxVariables
{
    public const string Prefix = "ngx.";
    private const string HeaderPrefix = "http_";

    /// <summary>True for a property path naming a request header variable (<c>ngx.http_*</c>).</summary>
    public static bool IsHeader(string path) =>
        path.StartsWith(Prefix, StringComparison.Ordinal) && path.AsSpan(Prefix.Length).StartsWith(HeaderPrefix, StringComparison.Ordinal);

    public static string? Get(ProxyContext context, string name)
    {
        var http = context.HttpContext;
        var request = http.Request;
        var connection = http.Connection;
        return name switch
        {
            // $request_uri: the original request target, with its query, not decoded
            "request_uri" => http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (request.PathBase + request.Path + request.QueryString).ToString(),
            // $uri: the normalised path without query (UriNormalizer: reserved escapes such as %2F stay encoded)
            "uri" => context.RequestPath ?? ((request.PathBase + request.Path).Value is { Length: > 0 } path ? path : "/"),
            "args" or "query_string" => request.QueryString.HasValue ? request.QueryString.Value![1..] : null,
            "is_args" => request.QueryString.HasValue ? "?" : "",
            "scheme" => request.Scheme,
            "https" => request.IsHttps ? "on" : "",
            "host" => request.Host.Host.ToLowerInvariant(),
            "http_host" => request.Host.HasValue ? request.Host.Value : null,
            "server_protocol" => request.Protocol,
            "request_method" => request.Method,
            "remote_addr" or "realip_remote_addr" => connection.RemoteIpAddress?.ToString(),
            "remote_port" or "realip_remote_port" => connection.RemotePort.ToString(CultureInfo.InvariantCulture),
            "server_addr" => connection.LocalIpAddress?.ToString(),
            "server_port" => connection.LocalPort.ToString(CultureInfo.InvariantCulture),
            "request_id" => request.Headers["X-Request-Id"] is { Count: > 0 } id ? id.ToString() : http.TraceIdentifier,
            "hostname" => Environment.MachineName,
            "pid" => Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
            "upstream_uri" => context.UpstreamPath is { } up ? up + request.QueryString.Value : null,
            "upstream_scheme" => context.Target?.DestinationPrefix is { } prefix ? prefix[..prefix.IndexOf(':', StringComparison.Ordinal)] : null,
            "upstream_host" => Proxy.GatehouseTransformer.UpstreamHost(context),
            // the peers tried, "ip:port[, ip:port…]" (balanced services; a service whose host is not an upstream: not found)
            "upstream_addr" => Proxy.PeerTries.UpstreamAddr(context),
            // $content_length: the request header as sent; $request_time: sec.msec since the request began;
            // $body_bytes_sent: the response body bytes sent so far
            "content_length" => Header(request.Headers, name),
            "request_time" => SecondsAndMilliseconds(Elapsed(context)),
            "body_bytes_sent" => context.ResponseBodyBytes.ToString(CultureInfo.InvariantCulture),
            // $request_length / $bytes_sent: the request's and the response's bytes so far, as nginx counts them on
            // HTTP/1.x (wire bytes) and HTTP/2 (header block and body read; the stream's frames sent); not found on HTTP/3
            "request_length" => Proxy.ConnectionActivity.Of(http)?.RequestBytes(http)?.ToString(CultureInfo.InvariantCulture),
            "bytes_sent" => Proxy.ConnectionActivity.Of(http)?.ResponseBytes(http)?.ToString(CultureInfo.InvariantCulture),
            "status" => http.Response.HasStarted || context.UpstreamStatus is not null
                ? http.Response.StatusCode.ToString(CultureInfo.InvariantCulture) : null,
            _ when name.StartsWith(HeaderPrefix, StringComparison.Ordinal) => Header(request.Headers, name[HeaderPrefix.Length..]),
            _ => null,
        };
    }

    /// <summary>Time since the gateway began the request (the clock the request's timings use).</summary>
    public static TimeSpan Elapsed(ProxyContext context) =>
        (context.HttpContext.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System).GetElapsedTime(context.Timings.Start);

    /// <summary>nginx's <c>%T.%03M</c>: whole seconds, a dot, milliseconds.</summary>
    private static string SecondsAndMilliseconds(TimeSpan elapsed)
    {
        var ms = (long)elapsed.TotalMilliseconds;
        return string.Create(CultureInfo.InvariantCulture, $"{ms / 1000}.{ms % 1000:D3}");
    }

    /// <summary>Writable variables: <c>ngx.upstream_uri</c> (the path sent upstream; a query after <c>?</c> is
    /// ignored here — the client's query is forwarded). Everything else is immutable and refused.</summary>
    public static bool TrySet(ProxyContext context, string name, string value)
    {
        if (name != "upstream_uri" || !value.StartsWith('/')) return false;
        var query = value.IndexOf('?', StringComparison.Ordinal);
        // Kong sets $upstream_uri verbatim; only what a request line cannot carry is escaped
        context.UpstreamPath = Routing.UriNormalizer.Escape(query < 0 ? value : value[..query]);
        return true;
    }

    /// <summary><c>$http_&lt;name&gt;</c>: the request header, name lowercased with <c>_</c> for <c>-</c>; several
    /// values are joined with ", " as nginx does.</summary>
    private static string? Header(IHeaderDictionary headers, string name)
    {
        var values = headers[name.Replace('_', '-')];
        return values.Count == 0 ? null : values.ToString();
    }
}
