namespace Gatehouse.Plugins.Bundled.ProxyCache;

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
