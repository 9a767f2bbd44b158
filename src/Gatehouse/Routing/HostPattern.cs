namespace Gatehouse.Routing;

/// <summary>How a route host is compared with the request's Host.</summary>
public enum HostPatternKind { Exact, SuffixWildcard, PrefixWildcard }

/// <summary>
/// One entry of a route's <c>hosts</c>: <c>example.com</c>, <c>*.example.com</c> (one or more leading labels) or
/// <c>example.*</c> (one or more trailing labels), each optionally with <c>:port</c>. As in Kong, a pattern with a
/// port only matches a Host header carrying that same port.
/// </summary>
public sealed record HostPattern(HostPatternKind Kind, string Key, int? Port)
{
    /// <summary>Parses a route host; <see cref="Key"/> is lower case: the host for exact patterns, ".example.com"
    /// for <c>*.example.com</c> and "example." for <c>example.*</c>.</summary>
    public static HostPattern Parse(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var text = host.Trim().ToLowerInvariant();
        int? port = null;
        var colon = text.LastIndexOf(':');
        if (colon > 0 && int.TryParse(text.AsSpan(colon + 1), out var p))
        {
            port = p;
            text = text[..colon];
        }
        if (text.StartsWith("*.", StringComparison.Ordinal) && text.Length > 2)
            return new HostPattern(HostPatternKind.SuffixWildcard, text[1..], port);
        if (text.EndsWith(".*", StringComparison.Ordinal) && text.Length > 2)
            return new HostPattern(HostPatternKind.PrefixWildcard, text[..^1], port);
        if (text.Contains('*'))
            throw new FormatException($"invalid wildcard host '{host}': '*' must be the first or last label");
        return new HostPattern(HostPatternKind.Exact, text, port);
    }

    /// <summary>Full comparison against a request host (lower case, no port) and the Host header's port.</summary>
    public bool Matches(string requestHost, int? requestPort)
    {
        if (Port is { } p && requestPort != p) return false;
        return Kind switch
        {
            HostPatternKind.Exact => requestHost == Key,
            HostPatternKind.SuffixWildcard => requestHost.Length > Key.Length && requestHost.EndsWith(Key, StringComparison.Ordinal),
            _ => requestHost.Length > Key.Length && requestHost.StartsWith(Key, StringComparison.Ordinal),
        };
    }
}
