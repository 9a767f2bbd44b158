using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Proxy;

/// <summary>Kong's answer when an https-only route is requested over plain HTTP: 426 with an Upgrade header, or a
/// redirect to the https URL with the route's https_redirect_status_code (301, 302, 307, 308).</summary>
internal static class HttpsRedirect
{
    public static LocalResponse? Check(ProxyContext context)
    {
        var http = context.HttpContext;
        var route = context.Route!;
        if (http.Request.IsHttps || Has(route.Protocols, "http") || !Has(route.Protocols, "https")) return null;
        var code = route.HttpsRedirectStatusCode;
        if (code is 301 or 302 or 307 or 308)
        {
            var host = context.SplitHost().Host;
            var location = "https://" + host + RawRequestTarget.PathAndQuery(http); // Kong: the request_uri as received
            return new LocalResponse(code, ReadOnlyMemory<byte>.Empty, [new("Location", location)]);
        }
        IReadOnlyList<KeyValuePair<string, string>> upgrade = HttpProtocol.IsHttp11(http.Request.Protocol) || HttpProtocol.IsHttp10(http.Request.Protocol)
            ? [new("Connection", "Upgrade"), new("Upgrade", "TLS/1.2, HTTP/1.1")]
            : [];
        return LocalResponse.Message(StatusCodes.Status426UpgradeRequired, ProxyMessages.UseHttps, upgrade);
    }

    /// <summary>Contains, by index: LINQ's goes through the list's ICollection and the default comparer per request.</summary>
    private static bool Has(IReadOnlyList<string> protocols, string protocol)
    {
        for (var i = 0; i < protocols.Count; i++)
            if (string.Equals(protocols[i], protocol, StringComparison.Ordinal)) return true;
        return false;
    }
}
