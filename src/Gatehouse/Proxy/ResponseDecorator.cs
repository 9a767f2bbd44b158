using System.Globalization;
using Gatehouse.Config;
using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Proxy;

/// <summary>Adds the informational response headers selected by the <c>headers</c> setting.</summary>
internal static class ResponseDecorator
{
    /// <summary>For an upstream answer: Via, and the upstream and proxy latencies.</summary>
    public static void Upstream(HttpResponse response, ProxyContext context, ProxySettings settings)
    {
        Debug(context.HttpContext, context, settings);
        RequestId(response, context, settings);
        if (settings.Has(ProxyHeaders.Via))
        {
            var via = response.Headers.Via.ToString();
            response.Headers.Via = via.Length == 0 ? settings.ViaToken : via + ", " + settings.ViaToken;
        }
        if (settings.Has(ProxyHeaders.UpstreamLatency))
            response.Headers[ProxyHeaderTokens.UpstreamLatencyHeader] = Ms(context.Timings.UpstreamLatencyMs);
        if (settings.Has(ProxyHeaders.ProxyLatency))
            response.Headers[ProxyHeaderTokens.ProxyLatencyHeader] = Ms(context.Timings.ProxyLatencyMs);
        if (settings.Has(ProxyHeaders.UpstreamStatus) && context.UpstreamStatus is { } status)
            response.Headers[ProxyHeaderTokens.UpstreamStatusHeader] = status.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>For an answer the gateway made itself: Server and the response latency.</summary>
    public static void Local(HttpResponse response, ProxyContext context, ProxySettings settings)
    {
        Debug(context.HttpContext, context, settings);
        RequestId(response, context, settings);
        if (settings.Has(ProxyHeaders.Server)) response.Headers.Server = settings.ServerToken;
        if (settings.Has(ProxyHeaders.ResponseLatency))
            response.Headers[ProxyHeaderTokens.ResponseLatencyHeader] = Ms(context.Timings.TotalMs);
        if (settings.Has(ProxyHeaders.UpstreamStatus) && context.UpstreamStatus is { } status)
            response.Headers[ProxyHeaderTokens.UpstreamStatusHeader] = status.ToString(CultureInfo.InvariantCulture);
    }

    private static void RequestId(HttpResponse response, ProxyContext context, ProxySettings settings)
    {
        if (settings.Has(ProxyHeaders.RequestId))
            response.Headers[ProxyHeaderTokens.RequestIdHeader] = context.HttpContext.TraceIdentifier;
    }

    /// <summary>Kong's debug headers (kong/router/utils.lua add_debug_headers), when allowed and asked for.</summary>
    public static void Debug(HttpContext http, ProxyContext context, ProxySettings settings)
    {
        if (!settings.AllowDebugHeader || context.Route is not { } route) return;
        var asked = http.Request.Headers["Gatehouse-Debug"].ToString();
        if (asked.Length == 0) asked = http.Request.Headers["Kong-Debug"].ToString();
        if (asked.Length == 0 || asked == "0") return;
        var headers = http.Response.Headers;
        headers["Gatehouse-Route-Id"] = route.Id.ToString();
        if (route.Name is { } rn) headers["Gatehouse-Route-Name"] = rn;
        if (context.Service is { } service)
        {
            headers["Gatehouse-Service-Id"] = service.Id.ToString();
            if (service.Name is { } sn) headers["Gatehouse-Service-Name"] = sn;
        }
    }

    private static string Ms(long value) => Math.Max(0, value).ToString(CultureInfo.InvariantCulture);
}
