using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Proxy;

/// <summary>
/// The request framing nginx (≥ 1.21.1) refuses and Kestrel lets through, refused before anything else runs
/// (no routing, plugin or filter), with Kong's JSON error and the connection closed: the bytes after an
/// ambiguous body cannot be trusted to be the next request. What Kestrel already refuses itself (400, connection
/// closed) is not repeated: a final coding other than chunked, several Content-Length headers, a non-numeric
/// Content-Length, a signed one (<see cref="HeaderEncoding"/>), bad chunk sizes.
/// <list type="bullet">
/// <item>HTTP/1.1 Transfer-Encoding other than exactly <c>chunked</c> (e.g. <c>gzip, chunked</c>, whose coding
/// Kestrel drops silently): 501 as nginx.</item>
/// <item>Transfer-Encoding with Content-Length: 400 as nginx. Kestrel keeps the request, moves Content-Length to
/// an <c>X-Content-Length</c> header and closes after it; so Transfer-Encoding with X-Content-Length is refused
/// (a client's own X-Content-Length cannot be told apart, a deliberate difference).</item>
/// <item>Transfer-Encoding on HTTP/1.0: 400 as nginx (a 1.0 recipient cannot know chunked).</item>
/// <item>HTTP/2 and HTTP/3: the connection-specific headers of RFC 9113 §8.2.2 Kestrel lets through
/// (Transfer-Encoding, Keep-Alive, Proxy-Connection, Upgrade): 400 (malformed request).</item>
/// </list>
/// </summary>
internal static class RequestFraming
{
    public const string BadRequest = "Bad request";
    public const string NotImplemented = "Not implemented";

    private static readonly KeyValuePair<string, string>[] Close = [new("Connection", "close")];
    private static readonly LocalResponse Refused400 = LocalResponse.Message(StatusCodes.Status400BadRequest, BadRequest, Close);
    private static readonly LocalResponse Refused501 = LocalResponse.Message(StatusCodes.Status501NotImplemented, NotImplemented, Close);

    /// <summary>The refusal for <paramref name="request"/>, or null when its framing is sound (the common case:
    /// two header lookups, no allocation).</summary>
    public static LocalResponse? Check(HttpRequest request)
    {
        var headers = request.Headers;
        if (HttpProtocol.IsHttp11(request.Protocol) || HttpProtocol.IsHttp10(request.Protocol))
        {
            var te = headers.TransferEncoding;
            if (te.Count == 0) return null;
            if (HttpProtocol.IsHttp10(request.Protocol) || headers.ContainsKey("X-Content-Length")) return Refused400;
            return te.Count == 1 && te[0].AsSpan().Trim(" \t").Equals("chunked", StringComparison.OrdinalIgnoreCase) ? null : Refused501;
        }
        return headers.ContainsKey("Transfer-Encoding") || headers.ContainsKey("Keep-Alive")
            || headers.ContainsKey("Proxy-Connection") || headers.ContainsKey("Upgrade") ? Refused400 : null;
    }
}
