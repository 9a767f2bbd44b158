using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Gatehouse.Entities;

/// <summary>Host, SNI, IP/CIDR, name and tag rules shared by the typedefs, with Kong's messages.</summary>
internal static partial class HostValidation
{
    [GeneratedRegex(@"^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})?)*\.?$")]
    private static partial Regex Hostname();

    [GeneratedRegex(@"^[A-Za-z0-9._~\-\u0080-\uFFFF]+$")]
    private static partial Regex Utf8Name();

    public static string? ValidateHost(string host, bool allowPort)
    {
        var (name, port, ok) = Split(host);
        if (!ok) return $"invalid value: {host}";
        if (port is not null && !allowPort) return "must not have a port";
        if (port is not null && (!int.TryParse(port, out var p) || p < 0 || p > 65535)) return "invalid port number";
        return IsHostname(name) || IPAddress.TryParse(name.Trim('[', ']'), out _) ? null : $"invalid value: {host}";
    }

    /// <summary>Route hosts: one '*' as the leftmost or rightmost label; an optional port.</summary>
    public static string? ValidateWildcardHost(string host, bool allowPort)
    {
        var stars = host.Count(c => c == '*');
        if (stars > 1) return "invalid wildcard: must have at most one wildcard";
        var probe = host;
        if (stars == 1)
        {
            var (name, _, _) = Split(host);
            if (!name.StartsWith("*.", StringComparison.Ordinal) && !name.EndsWith(".*", StringComparison.Ordinal))
                return "invalid wildcard: must be placed at leftmost or rightmost label";
            probe = host.Replace("*", "wildcard", StringComparison.Ordinal);
        }
        // Kong's normalize_ip: a bad port is reported as such, anything else as an invalid hostname.
        return ValidateHost(probe, allowPort) switch
        {
            null => null,
            "invalid port number" => "invalid port number",
            _ => $"invalid hostname: {host}",
        };
    }

    /// <summary>Route SNIs under traditional_compatible: Kong's <c>wildcard_host</c> typedef and its messages.</summary>
    public static string? ValidateSni(string sni)
    {
        var probe = sni;
        var star = sni.IndexOf('*');
        if (star >= 0)
        {
            if (star != 0 && star != sni.Length - 1) return "wildcard must be leftmost or rightmost character";
            if (sni.Count(c => c == '*') > 1) return "only one wildcard must be specified";
            probe = sni.Replace("*", "wildcard", StringComparison.Ordinal);
        }
        var (name, port, ok) = Split(probe);
        if (IPAddress.TryParse(name.Trim('[', ']'), out _)) return "must not be an IP";
        if (!ok || !IsHostname(name)) return $"invalid value: {probe}";
        return port is null ? null : "must not have a port";
    }

    public static string? ValidateIpOrCidr(string text)
    {
        var slash = text.IndexOf('/');
        var ip = slash < 0 ? text : text[..slash];
        if (!IPAddress.TryParse(ip, out var address)) return $"invalid ip or cidr range: '{text}'";
        if (slash < 0) return null;
        var max = address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
        return int.TryParse(text.AsSpan(slash + 1), out var bits) && bits >= 0 && bits <= max
            ? null : $"invalid ip or cidr range: '{text}'";
    }

    public static string? ValidateUtf8Name(string name) =>
        Utf8Name().IsMatch(name) ? null
            : $"invalid value '{name}': the only accepted ascii characters are alphanumerics or ., -, _, and ~";

    /// <summary>Kong's tag typedef: printable ASCII including the space (0x20-0x7E) except <c>,</c> and <c>/</c>
    /// (the filter separators), or non-ASCII UTF-8 (invalid UTF-8 is refused earlier, by the string check).</summary>
    public static string? ValidateTag(string tag) =>
        tag.Length > 0 && tag.All(IsTagChar) ? null
            : $"invalid tag '{tag}': expected printable ascii (except `,` and `/`) or valid utf-8 sequences";

    private static bool IsTagChar(char c) => c >= 0x80 || (c >= 0x20 && c < 0x7f && c != ',' && c != '/');

    private static bool IsHostname(string name) => Hostname().IsMatch(name) && !name.All(c => char.IsAsciiDigit(c) || c == '.');

    /// <summary>Splits "host[:port]" and "[v6]:port"; a bare IPv6 address has no port.</summary>
    private static (string Name, string? Port, bool Ok) Split(string host)
    {
        if (host.Length == 0) return (host, null, false);
        if (host[0] == '[')
        {
            var close = host.IndexOf(']');
            if (close < 0) return (host, null, false);
            var rest = host[(close + 1)..];
            if (rest.Length == 0) return (host[..(close + 1)], null, true);
            return rest[0] == ':' ? (host[..(close + 1)], rest[1..], true) : (host, null, false);
        }
        var colons = host.Count(c => c == ':');
        if (colons == 1) { var i = host.IndexOf(':'); return (host[..i], host[(i + 1)..], true); }
        return (host, null, true);
    }
}
