using System.Buffers;
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
/// <item>Transfer-Encoding on more than one header line: 400 as nginx.</item>
/// <item>HTTP/2 and HTTP/3: the connection-specific headers of RFC 9113 §8.2.2 Kestrel lets through
/// (Transfer-Encoding, Keep-Alive, Proxy-Connection, Upgrade): 400 (malformed request).</item>
/// <item>TRACE: 405 as nginx (it would reflect credentials back to a page script).</item>
/// </list>
/// Header names outside nginx's valid set (letters, digits, hyphen: nginx's <c>ignore_invalid_headers</c> with
/// <c>underscores_in_headers off</c>, Kong's defaults) are dropped here too, as nginx drops them while parsing,
/// so no plugin, filter or upstream sees <c>Content_Length</c> or <c>X.Forwarded.For</c> (CGI-style upstreams
/// would read them as their hyphenated twins).
/// </summary>
internal static class RequestFraming
{
    public const string BadRequest = "Bad request";
    public const string NotImplemented = "Not implemented";
    public const string MethodNotAllowed = "Method not allowed";

    private static readonly KeyValuePair<string, string>[] Close = [new("Connection", "close")];
    private static readonly LocalResponse Refused400 = LocalResponse.Message(StatusCodes.Status400BadRequest, BadRequest, Close);
    private static readonly LocalResponse Refused405 = LocalResponse.Message(StatusCodes.Status405MethodNotAllowed, MethodNotAllowed);
    private static readonly LocalResponse Refused501 = LocalResponse.Message(StatusCodes.Status501NotImplemented, NotImplemented, Close);
    private static readonly SearchValues<char> NameChars = SearchValues.Create("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    /// <summary>The refusal for <paramref name="request"/>, or null when its framing is sound (the common case: one
    /// vectorised scan per header name and two lookups; the responses are shared, nothing is allocated).</summary>
    public static LocalResponse? Check(HttpRequest request)
    {
        var headers = request.Headers;
        if (HttpMethods.IsTrace(request.Method)) return Refused405;
        DropInvalidNames(headers);
        if (HttpProtocol.IsHttp11(request.Protocol) || HttpProtocol.IsHttp10(request.Protocol))
        {
            var te = headers.TransferEncoding;
            if (te.Count == 0) return null;
            if (te.Count > 1 || HttpProtocol.IsHttp10(request.Protocol) || headers.ContainsKey("X-Content-Length")) return Refused400;
            return te[0].AsSpan().Trim(" \t").Equals("chunked", StringComparison.OrdinalIgnoreCase) ? null : Refused501;
        }
        return headers.ContainsKey("Transfer-Encoding") || headers.ContainsKey("Keep-Alive")
            || headers.ContainsKey("Proxy-Connection") || headers.ContainsKey("Upgrade") ? Refused400 : null;
    }

    /// <summary>Removes headers whose names nginx ignores; allocates only when there is one.</summary>
    private static void DropInvalidNames(IHeaderDictionary headers)
    {
        List<string>? invalid = null;
        foreach (var header in headers)
            if (header.Key.AsSpan().ContainsAnyExcept(NameChars)) (invalid ??= []).Add(header.Key);
        if (invalid is null) return;
        foreach (var name in invalid) headers.Remove(name);
    }
}
