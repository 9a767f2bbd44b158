using System.Text.RegularExpressions;

namespace Gatehouse.Entities;

/// <summary>Upstream and router path rules (Kong's <c>validate_path</c> and <c>router_path</c>).</summary>
internal static class PathValidation
{
    public static string? ValidatePercentEncoding(string path)
    {
        for (var i = 0; i < path.Length; i++)
        {
            if (path[i] != '%') continue;
            if (i + 2 >= path.Length || !Uri.IsHexDigit(path[i + 1]) || !Uri.IsHexDigit(path[i + 2]))
                return $"invalid url-encoded value: '{path.Substring(i, Math.Min(3, path.Length - i))}'";
        }
        return null;
    }

    /// <summary>Router paths: '~' prefixed ones must compile as regexes; plain ones must be well encoded.</summary>
    public static string? ValidateRouterPath(string path)
    {
        if (!path.StartsWith('~')) return ValidatePercentEncoding(path);
        var pattern = path[1..];
        try
        {
            _ = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            return null;
        }
        catch (ArgumentException e)
        {
            return $"invalid regex: '{pattern}' (PCRE returned: {e.Message})";
        }
    }
}
