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
