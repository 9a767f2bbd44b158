using System.Net;
using System.Text.RegularExpressions;

namespace Gatehouse.Config;

/// <summary>Parsing and normalising of the Admin exposure keys (admin_gui_url, admin_gui_origin, admin_allowed_hosts,
/// admin_token): one definition of an origin and of a host name, shared by the conf loader and the Admin guard.</summary>
public static partial class AdminAccess
{
    internal static IReadOnlyList<Uri> GuiUrls(IReadOnlyList<string> items) => items.Select(item =>
        TryHttpUri(item, out var uri) && uri.Query.Length == 0 && uri.Fragment.Length == 0
            ? uri
            : throw new FormatException($"'{item}' is not a URL (expected <scheme>://<host>[:<port>][<path>], scheme http or https)")).ToArray();

    internal static Uri ApiUrl(string item) =>
        TryHttpUri(item, out var uri) && uri.Query.Length == 0 && uri.Fragment.Length == 0
            ? uri
            : throw new FormatException($"'{item}' is not a URL (expected <scheme>://<host>[:<port>][<path>], scheme http or https)");

    internal static IReadOnlyList<string> Origins(IReadOnlyList<string> items) => items.Select(item =>
        TryHttpUri(item, out var uri) && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.Fragment.Length == 0
            ? Origin(uri)
            : throw new FormatException($"'{item}' is not an origin (expected <scheme>://<host>[:<port>], scheme http or https; '*' and 'null' are not accepted)")).ToArray();

    internal static IReadOnlyList<string> AllowedHosts(IReadOnlyList<string> items)
    {
        if (items.Contains("*")) return items.Count == 1 ? ["*"] : throw new FormatException("'*' cannot be combined with other values");
        return items.Select(item => HostName().IsMatch(item) || IsCanonicalIp(item.Trim('[', ']'))
            ? NormalizeHost(item)
            : throw new FormatException($"'{item}' is not a host name (a DNS name or IP address, without scheme or port; or '*')")).ToArray();
    }

    internal static string Token(string value) =>
        value.Length > 0 && value.All(c => c is > ' ' and < '\x7f')
            ? value
            : throw new FormatException("must be non-empty printable ASCII without spaces (it is sent in a request header)");

    /// <summary>The origin of an http(s) URL as a browser sends it: lower-case scheme and host, default port left out.</summary>
    public static string Origin(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var origin = uri.Scheme + "://" + (uri.HostNameType == UriHostNameType.IPv6 ? "[" + uri.IdnHost.Trim('[', ']') + "]" : uri.IdnHost.ToLowerInvariant());
        return uri.IsDefaultPort ? origin : origin + ":" + uri.Port;
    }

    /// <summary>An <c>Origin</c> header value normalised as <see cref="Origin(Uri)"/>, or null when it is not an http(s)
    /// origin (e.g. <c>null</c>).</summary>
    public static string? TryParseOrigin(string? value) =>
        value is not null && TryHttpUri(value, out var uri) && uri.AbsolutePath == "/" ? Origin(uri) : null;

    /// <summary>Lower case, without brackets or a final dot: the form Host names are compared in.</summary>
    public static string NormalizeHost(string host) => host.Trim('[', ']').TrimEnd('.').ToLowerInvariant();

    /// <summary>An IP address in the canonical text a browser would send (<c>127.0.0.1</c>, <c>::1</c>), not one of the
    /// other spellings IPAddress also parses (<c>127.1</c>, <c>0x7f.1</c>, <c>2130706433</c>).</summary>
    public static bool IsCanonicalIp(string host) =>
        IPAddress.TryParse(host, out var ip) && string.Equals(ip.ToString(), host, StringComparison.OrdinalIgnoreCase);

    private static bool TryHttpUri(string text, out Uri uri) =>
        Uri.TryCreate(text, UriKind.Absolute, out uri!) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && uri.Host.Length > 0 && uri.UserInfo.Length == 0;

    [GeneratedRegex(@"^(?=.{1,253}\.?$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")]
    private static partial Regex HostName();
}
