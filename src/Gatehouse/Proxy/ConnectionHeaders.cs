using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Proxy;

/// <summary>
/// RFC 9110 §7.6.1: a proxy removes every header a message's <c>Connection</c> header names (they are for this hop
/// only), in both directions, as Kong does. YARP already drops the fixed hop-by-hop set (Connection, Keep-Alive,
/// Transfer-Encoding, Upgrade, Proxy-Connection…); this removes the names listed in Connection. The
/// <c>close</c>, <c>keep-alive</c> and <c>upgrade</c> options are left alone: YARP owns the upgrade handshake.
/// No allocation unless a header is actually named.
/// </summary>
internal static class ConnectionHeaders
{
    /// <summary>Removes from the upstream request the headers the client's Connection header names.</summary>
    public static void RemoveNamed(StringValues connection, HttpRequestMessage request)
    {
        foreach (var value in connection)
        {
            var rest = value.AsSpan();
            while (Next(ref rest, out var token))
            {
                var name = token.ToString();
                if (!request.Headers.Remove(name)) request.Content?.Headers.Remove(name);
            }
        }
    }

    /// <summary>Removes from the client's response the headers the upstream's Connection header names.</summary>
    public static void RemoveNamed(HttpResponseMessage upstream, IHeaderDictionary response)
    {
        if (!upstream.Headers.NonValidated.TryGetValues("Connection", out var values)) return;
        foreach (var value in values)
        {
            var rest = value.AsSpan();
            while (Next(ref rest, out var token)) response.Remove(token.ToString());
        }
    }

    /// <summary>The next header name in a Connection list, skipping empty elements and the connection options.</summary>
    private static bool Next(ref ReadOnlySpan<char> rest, out ReadOnlySpan<char> token)
    {
        while (!rest.IsEmpty)
        {
            var comma = rest.IndexOf(',');
            token = (comma < 0 ? rest : rest[..comma]).Trim(" \t");
            rest = comma < 0 ? default : rest[(comma + 1)..];
            if (token.IsEmpty || IsOption(token)) continue;
            return true;
        }
        token = default;
        return false;
    }

    private static bool IsOption(ReadOnlySpan<char> token) =>
        token.Equals("close", StringComparison.OrdinalIgnoreCase)
        || token.Equals("keep-alive", StringComparison.OrdinalIgnoreCase)
        || token.Equals("upgrade", StringComparison.OrdinalIgnoreCase);
}
