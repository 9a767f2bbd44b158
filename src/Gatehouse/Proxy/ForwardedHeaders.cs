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
        var clientIp = http.Connection.RemoteIpAddress?.ToString() ?? "";
        var incomingXff = http.Request.Headers["X-Forwarded-For"].ToString();
        Set(headers, "X-Real-IP", clientIp);
        Set(headers, "X-Forwarded-For", incomingXff.Length == 0 ? clientIp : incomingXff + ", " + clientIp);
        Set(headers, "X-Forwarded-Proto", http.Request.Scheme);
        Set(headers, "X-Forwarded-Host", context.SplitHost().Host);
        Set(headers, "X-Forwarded-Port", context.Connection?.LocalPortText(http)
            ?? http.Connection.LocalPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Set(headers, "X-Forwarded-Path", RawRequestTarget.Path(http)); // as received, as Kong: not re-encoded
        var prefix = context.Match?.StrippedPrefix;
        if (prefix is null) headers.Remove("X-Forwarded-Prefix");
        else Set(headers, "X-Forwarded-Prefix", PrefixBytes(prefix));
        if (settings.Has(ProxyHeaders.RequestId))
            Set(headers, ProxyHeaderTokens.RequestIdHeader, http.TraceIdentifier);
        if (settings.Has(ProxyHeaders.Via))
        {
            var via = http.Request.Headers.Via.ToString();
            Set(headers, "Via", via.Length == 0 ? settings.ViaToken : via + ", " + settings.ViaToken);
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

    private static void Set(System.Net.Http.Headers.HttpRequestHeaders headers, string name, string value)
    {
        headers.Remove(name);
        headers.TryAddWithoutValidation(name, value);
    }
}
