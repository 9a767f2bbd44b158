using System.Globalization;
using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Proxy.Tracing;

/// <summary>The attributes Kong's instrumentation gives the request span (<c>kong</c>) and each upstream try
/// (<c>kong.balancer</c>), with Kong's names.</summary>
internal static class RequestSpan
{
    public static void End(RequestTrace trace, ProxyContext context)
    {
        var root = trace.Root;
        var request = context.HttpContext.Request;
        root.Set("http.method", request.Method);
        root.Set("http.url", string.Concat(request.Scheme, "://", request.Host.Value, request.PathBase.Value, request.Path.Value, request.QueryString.Value));
        root.Set("http.host", request.Host.Host);
        root.Set("http.scheme", request.Scheme);
        root.Set("http.flavor", request.Protocol switch { "HTTP/1.0" => "1.0", "HTTP/2" => "2.0", "HTTP/3" => "3.0", _ => "1.1" });
        var peer = context.HttpContext.Connection.RemoteIpAddress?.ToString();
        root.Set("http.client_ip", peer);
        root.Set("net.peer.ip", peer);
        root.Set("kong.request.id", context.HttpContext.TraceIdentifier);
        if (context.Route is { } route) root.Set("http.route", route.Name ?? route.Id.ToString());
        var status = context.HttpContext.Response.StatusCode;
        root.Set("http.status_code", (long)status);
        if (status >= 500) root.Error ??= string.Create(CultureInfo.InvariantCulture, $"HTTP {status}");
        RequestTrace.Close(root);
    }

    public static void EndTry(TraceSpan span, ProxyContext context, string destination, int tryCount, ForwarderError error)
    {
        RequestTrace.Close(span);
        if (Uri.TryCreate(destination, UriKind.Absolute, out var uri))
        {
            span.Set("net.peer.ip", uri.Host.Trim('[', ']'));
            span.Set("net.peer.port", (long)uri.Port);
        }
        span.Set("try_count", (long)tryCount);
        if (error != ForwarderError.None)
        {
            span.Error = error.ToString();
            span.Set("http.status_code", (long)(context.HttpContext.Response.StatusCode is var s && s >= 500 ? s : StatusCodes.Status502BadGateway));
        }
    }
}
