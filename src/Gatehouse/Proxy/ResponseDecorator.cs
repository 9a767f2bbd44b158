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
        if (settings.Has(ProxyHeaders.Server)) response.Headers.Server = settings.ServerToken;
        if (settings.Has(ProxyHeaders.ResponseLatency))
            response.Headers[ProxyHeaderTokens.ResponseLatencyHeader] = Ms(context.Timings.TotalMs);
        if (settings.Has(ProxyHeaders.UpstreamStatus) && context.UpstreamStatus is { } status)
            response.Headers[ProxyHeaderTokens.UpstreamStatusHeader] = status.ToString(CultureInfo.InvariantCulture);
    }

    private static string Ms(long value) => Math.Max(0, value).ToString(CultureInfo.InvariantCulture);
}
