using Microsoft.AspNetCore.Http;

namespace Gatehouse.Routing;

/// <summary>
/// What the router looks at in a request. <see cref="Host"/> is lower case without port; <see cref="HostPort"/> is
/// the port written in the Host header, if any; <see cref="Path"/> is the path without query, normalised by
/// <see cref="UriNormalizer"/> (the router does not normalise it again).
/// </summary>
public readonly record struct RouteRequest(
    string Method, string Host, int? HostPort, string Path, IHeaderDictionary Headers, string? Sni, bool IsTls)
{
    /// <summary>Splits a raw Host header ("Example.com:8080") into lower-case host and port.</summary>
    public static (string Host, int? Port) SplitHost(string? rawHost)
    {
        if (string.IsNullOrEmpty(rawHost)) return ("", null);
        var text = rawHost;
        if (text[0] == '[')
        {
            var end = text.IndexOf(']');
            var h = end > 0 ? text[..(end + 1)] : text;
            int? port6 = end > 0 && end + 2 < text.Length && text[end + 1] == ':' && int.TryParse(text.AsSpan(end + 2), out var pp) ? pp : null;
            return (h.ToLowerInvariant(), port6);
        }
        var colon = text.LastIndexOf(':');
        if (colon > 0 && int.TryParse(text.AsSpan(colon + 1), out var p))
            return (Lower(text[..colon]), p);
        return (Lower(text), null);
    }

    private static string Lower(string s)
    {
        foreach (var c in s)
            if (char.IsUpper(c)) return s.ToLowerInvariant();
        return s;
    }
}
