namespace Gatehouse.Plugins.Bundled.ProxyCache;

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
