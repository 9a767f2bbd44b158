using Gatehouse.Config;
using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Proxy;

/// <summary>
/// The headers Kong adds to the upstream request. No client is trusted (Kong's default trusted_ips), so
/// X-Forwarded-Proto/-Host/-Port/-Path/-Prefix are always overwritten with the gateway's own view, X-Forwarded-For
/// gets the client address appended, X-Real-IP is the client address, Via gets the gateway appended, and
/// X-Gatehouse-Request-Id carries the request id when that header is enabled.
/// </summary>
internal static class ForwardedHeaders
{
    public static void Apply(HttpContext http, HttpRequestMessage request, ProxyContext context, ProxySettings settings)
    {
        var headers = request.Headers;
        var incoming = http.Request.Headers;
        var clientIp = http.Connection.RemoteIpAddress?.ToString() ?? "";
        var incomingXff = incoming["X-Forwarded-For"];
        var xff = incomingXff.ToString();
        Set(headers, incoming, "X-Real-IP", clientIp);
        Set(headers, incomingXff.Count > 0, "X-Forwarded-For", xff.Length == 0 ? clientIp : xff + ", " + clientIp);
        Set(headers, incoming, "X-Forwarded-Proto", http.Request.Scheme);
        Set(headers, incoming, "X-Forwarded-Host", context.SplitHost().Host);
        Set(headers, incoming, "X-Forwarded-Port", context.Connection?.LocalPortText(http)
            ?? http.Connection.LocalPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Set(headers, incoming, "X-Forwarded-Path", RawRequestTarget.Path(http)); // as received, as Kong: not re-encoded
        var prefix = context.Match?.StrippedPrefix;
        if (prefix is null)
        {
            if (incoming.ContainsKey("X-Forwarded-Prefix")) headers.Remove("X-Forwarded-Prefix");
        }
        else Set(headers, incoming, "X-Forwarded-Prefix", PrefixBytes(prefix));
        if (settings.Has(ProxyHeaders.RequestId))
            Set(headers, incoming, ProxyHeaderTokens.RequestIdHeader, http.TraceIdentifier);
        if (settings.Has(ProxyHeaders.Via))
        {
            var incomingVia = incoming.Via;
            var via = incomingVia.ToString();
            Set(headers, incomingVia.Count > 0, "Via", via.Length == 0 ? settings.ViaToken : via + ", " + settings.ViaToken);
        }
    }

    /// <summary>Kong sends the stripped prefix as its normalised bytes (decoded, reserved escapes such as %2F kept):
    /// the router's text as UTF-8, one char per byte (header values are bytes, see <see cref="HeaderEncoding"/>),
    /// with the %XX the normaliser keeps for bytes that are not UTF-8 (only those are ≥ %80) turned back into
    /// those bytes.</summary>
    internal static string PrefixBytes(string prefix)
    {
        if (System.Text.Ascii.IsValid(prefix) && !prefix.Contains('%')) return prefix;
        var bytes = System.Text.Encoding.UTF8.GetBytes(prefix);
        var result = new System.Text.StringBuilder(bytes.Length);
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == '%' && i + 2 < bytes.Length && HexValue(bytes[i + 1]) is var hi and >= 8 && HexValue(bytes[i + 2]) is var lo and >= 0)
            {
                result.Append((char)(hi * 16 + lo));
                i += 2;
            }
            else result.Append((char)bytes[i]);
        }
        return result.ToString();
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        _ => -1,
    };

    /// <summary>Replaces a header the base transformer may have copied from the client's request. The outgoing headers
    /// hold only what the client sent (copied before this runs), so a name the client did not send has nothing to
    /// remove: the client's headers answer that cheaply (Kestrel: no lookup at all without unknown headers), the
    /// outgoing ones would parse the name twice.</summary>
    private static void Set(System.Net.Http.Headers.HttpRequestHeaders headers, IHeaderDictionary incoming, string name, string value) =>
        Set(headers, incoming.ContainsKey(name), name, value);

    private static void Set(System.Net.Http.Headers.HttpRequestHeaders headers, bool sent, string name, string value)
    {
        if (sent) headers.Remove(name);
        headers.TryAddWithoutValidation(name, value);
    }
}
