using System.Globalization;
using System.Text.RegularExpressions;

namespace Gatehouse.Entities.Schemas;

/// <summary>Kind of a host in a target or upstream name, as Kong's <c>hostname_type</c> tells them apart (by the
/// number of colons and digits-and-dots only, not by a full parse).</summary>
public enum AddressKind { Name, IPv4, IPv6 }

/// <summary>
/// A host with an optional port, parsed and normalised as Kong's <c>kong.tools.ip.normalize_ip</c> does: IPv4 without
/// leading zeros, IPv6 fully expanded in lower case, names kept as written. Used for targets (<c>host:port</c>, port
/// 8000 when absent), upstream names (a name, no IP, no port) and upstream <c>host_header</c>.
/// </summary>
public sealed partial record TargetAddress(AddressKind Kind, string Host, int? Port)
{
    /// <summary>Kong's default port of a target given without one.</summary>
    public const int DefaultTargetPort = 8000;

    [GeneratedRegex(@"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?::(\d+))?$")]
    private static partial Regex IPv4();

    [GeneratedRegex(@"^[0-9A-Za-z\-._]+$")]
    private static partial Regex NameChars();

    [GeneratedRegex(@"^[0-9A-Fa-f]{1,4}$")]
    private static partial Regex Hextet();

    /// <summary>Parses <paramref name="text"/>; null when it is neither an IP address nor a valid hostname (with an
    /// optional port up to 65535).</summary>
    public static TargetAddress? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colons = text.Count(c => c == ':');
        if (colons > 1) return ParseIPv6(text);
        var withoutColon = text.Replace(":", "", StringComparison.Ordinal);
        if (withoutColon.Length > 0 && withoutColon.All(c => c is >= '0' and <= '9' or '.')) return ParseIPv4(text);
        return ParseName(text);
    }

    /// <summary><c>host:port</c> as Kong stores a target: IPv6 in brackets, <paramref name="defaultPort"/> when the
    /// address has none.</summary>
    public string Format(int defaultPort) =>
        (Kind == AddressKind.IPv6 ? $"[{Host}]" : Host) + ":" + (Port ?? defaultPort).ToString(CultureInfo.InvariantCulture);

    private static TargetAddress? ParseIPv4(string text)
    {
        var m = IPv4().Match(text);
        if (!m.Success) return null;
        var parts = new int[4];
        for (var i = 0; i < 4; i++)
        {
            parts[i] = int.Parse(m.Groups[i + 1].Value, CultureInfo.InvariantCulture);
            if (parts[i] > 255) return null;
        }
        if (!TryPort(m.Groups[5], out var port)) return null;
        return new(AddressKind.IPv4, string.Join('.', parts), port);
    }

    private static TargetAddress? ParseIPv6(string text)
    {
        string body;
        int? port = null;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0) return null;
            body = text[1..close];
            var rest = text[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':' || rest.Length == 1 || !rest[1..].All(char.IsAsciiDigit)) return null;
                if (!int.TryParse(rest[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p > 65535) return null;
                port = p;
            }
        }
        else body = text;
        if (body.StartsWith(':')) body = "0" + body;
        if (body.EndsWith(':')) body += "0";
        var doubleColon = body.IndexOf("::", StringComparison.Ordinal);
        if (doubleColon >= 0)
        {
            var count = body.Count(c => c == ':');
            var fill = ":" + string.Concat(Enumerable.Repeat("0:", Math.Max(0, 8 - count)));
            body = string.Concat(body.AsSpan(0, doubleColon), fill, body.AsSpan(doubleColon + 2));
        }
        var hextets = body.Split(':');
        if (hextets.Length != 8 || !hextets.All(h => Hextet().IsMatch(h))) return null;
        return new(AddressKind.IPv6, string.Join(':', hextets.Select(h => h.PadLeft(4, '0').ToLowerInvariant())), port);
    }

    private static TargetAddress? ParseName(string text)
    {
        var name = text;
        int? port = null;
        var colon = text.LastIndexOf(':');
        if (colon >= 0 && colon < text.Length - 1 && text[(colon + 1)..].All(char.IsAsciiDigit))
        {
            if (!int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p > 65535) return null;
            port = p;
            name = text[..colon];
        }
        if (!NameChars().IsMatch(name)) return null;
        // no label may end in a dash, no empty label except a final dot (an FQDN)
        var labels = name.Split('.');
        for (var i = 0; i < labels.Length; i++)
        {
            if (labels[i].EndsWith('-')) return null;
            if (labels[i].Length == 0 && i != labels.Length - 1) return null;
        }
        return new(AddressKind.Name, name, port);
    }

    private static bool TryPort(Group group, out int? port)
    {
        port = null;
        if (!group.Success) return true;
        if (!int.TryParse(group.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p > 65535) return false;
        port = p;
        return true;
    }
}
