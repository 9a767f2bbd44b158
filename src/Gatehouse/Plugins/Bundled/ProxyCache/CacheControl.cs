using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Plugins.Bundled.ProxyCache;

/// <summary>A Cache-Control header's directives (Kong's <c>parse_directive_header</c>): names lower-cased, a value
/// kept as text (numbers read by <see cref="Number"/>); several header lines are one list.</summary>
internal sealed class CacheControl
{
    public static readonly CacheControl None = new([]);
    private readonly Dictionary<string, string?> _directives;

    private CacheControl(Dictionary<string, string?> directives) => _directives = directives;

    public static CacheControl Parse(StringValues header)
    {
        if (StringValues.IsNullOrEmpty(header)) return None;
        var directives = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var line in header)
        {
            foreach (var part in (line ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var eq = part.IndexOf('=', StringComparison.Ordinal);
                var name = (eq < 0 ? part : part[..eq]).Trim().ToLowerInvariant();
                if (name.Length > 0) directives[name] = eq < 0 ? null : part[(eq + 1)..].Trim().Trim('"');
            }
        }
        return new CacheControl(directives);
    }

    public bool Has(string directive) => _directives.ContainsKey(directive);

    /// <summary>A directive's value when it is a number (Kong compares only numbers).</summary>
    public long? Number(string directive) =>
        _directives.TryGetValue(directive, out var v) && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;

    /// <summary>Kong's <c>calculate_resource_ttl</c>: s-maxage, else max-age, else Expires − now; never negative;
    /// 0 when none is given.</summary>
    public long ResourceTtl(StringValues expires, long now)
    {
        if ((Number("s-maxage") ?? Number("max-age")) is { } maxAge) return Math.Max(maxAge, 0);
        if (expires.Count > 0 && DateTimeOffset.TryParseExact(expires[^1], "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            return Math.Max(at.ToUnixTimeSeconds() - now, 0);
        return 0;
    }
}

/// <summary>The query string as Kong's <c>kong.request.get_query</c> sees it: decoded names, each with its values in
/// order; a valueless argument (<c>?flag</c>) has the value null.</summary>
internal static class QueryArguments
{
    public static Dictionary<string, List<string?>> Parse(string? query)
    {
        var args = new Dictionary<string, List<string?>>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(query)) return args;
        foreach (var part in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var name = Decode(eq < 0 ? part : part[..eq]);
            if (name.Length == 0) continue;
            if (!args.TryGetValue(name, out var values)) args[name] = values = [];
            values.Add(eq < 0 ? null : Decode(part[(eq + 1)..]));
        }
        return args;
    }

    private static string Decode(string s) => Uri.UnescapeDataString(s.Replace('+', ' '));
}

/// <summary>A media type as Kong's <c>parse_mime_type</c> reads it: type and subtype lower-cased (<c>*</c> alone is
/// <c>*/*</c>), parameters with lower-cased names and unquoted values.</summary>
internal sealed record MediaType(string Type, string Subtype, IReadOnlyDictionary<string, string> Parameters)
{
    public static MediaType? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var parts = text.Split(';', StringSplitOptions.TrimEntries);
        string type, subtype;
        if (parts[0] == "*") (type, subtype) = ("*", "*");
        else
        {
            var slash = parts[0].IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0 || slash == parts[0].Length - 1) return null;
            (type, subtype) = (parts[0][..slash].ToLowerInvariant(), parts[0][(slash + 1)..].ToLowerInvariant());
        }
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in parts.Skip(1))
        {
            var eq = p.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) return null;
            parameters[p[..eq].Trim().ToLowerInvariant()] = p[(eq + 1)..].Trim().Trim('"');
        }
        return new MediaType(type, subtype, parameters);
    }

    /// <summary>Kong's proxy-cache match: same type and subtype (or <c>*</c> in this one), and exactly the same
    /// parameters — <c>application/json</c> does not match <c>application/json; charset=utf-8</c>.</summary>
    public bool Accepts(MediaType actual) =>
        (Type == "*" || Type == actual.Type) && (Subtype == "*" || Subtype == actual.Subtype)
        && Parameters.Count == actual.Parameters.Count
        && Parameters.All(p => actual.Parameters.TryGetValue(p.Key, out var v) && v == p.Value);
}
