using System.Text;
using System.Text.RegularExpressions;

namespace Gatehouse.Entities;

/// <summary>Upstream and router path rules (Kong's <c>validate_path</c> and <c>router_path</c>), with Kong's messages.</summary>
internal static partial class PathValidation
{
    [GeneratedRegex(@"^/[A-Za-z0-9._~/%:@!$&'()*+,;=-]*$")]
    private static partial Regex Rfc3986Path();

    /// <summary>An upstream path: RFC 3986 characters only, well-formed percent-encoding.</summary>
    public static string? ValidatePath(string path)
    {
        if (!Rfc3986Path().IsMatch(path))
            return $"invalid path: '{path}' (characters outside of the reserved list of RFC 3986 found)";
        return ValidatePercentEncoding(path);
    }

    public static string? ValidatePercentEncoding(string path)
    {
        for (var i = 0; i < path.Length; i++)
        {
            if (path[i] != '%') continue;
            if (i + 2 >= path.Length || !Uri.IsHexDigit(path[i + 1]) || !Uri.IsHexDigit(path[i + 2]))
                return $"invalid url-encoded value: '{path.Substring(i, Math.Min(3, path.Length - i))}'";
            i += 2;
        }
        return null;
    }

    /// <summary>Router paths: '~' prefixed ones must compile as regexes; plain ones must be well encoded and normalized.</summary>
    public static string? ValidateRouterPath(string path)
    {
        if (ValidatePercentEncoding(path) is { } encodingError) return encodingError;
        if (!path.StartsWith('~'))
        {
            var normalized = Normalize(path);
            return normalized == path ? null : $"non-normalized path, consider use '{normalized}' instead";
        }
        var pattern = path[1..];
        try
        {
            _ = Routing.RoutePaths.CompileRegex(path); // exactly what the router will run
            return null;
        }
        catch (ArgumentException e)
        {
            return $"invalid regex: '{pattern}' (PCRE returned: {e.Message})";
        }
        catch (NotSupportedException e)
        {
            // Gatehouse difference: the router's regex engine is linear-time (no lookarounds, backreferences, atomic groups)
            return $"invalid regex: '{pattern}' ({e.Message})";
        }
    }

    /// <summary>
    /// RFC 3986 normalization as the router applies it: unreserved characters decoded, other escapes in
    /// upper case, dot segments removed.
    /// </summary>
    public static string Normalize(string path)
    {
        // nearly every route path: nothing escaped, no dot segment (each segment of a path starting with / follows a /)
        if (path.StartsWith('/') && !path.Contains('%') && !path.Contains("/.", StringComparison.Ordinal)) return path;
        var sb = new StringBuilder(path.Length);
        for (var i = 0; i < path.Length; i++)
        {
            if (path[i] == '%' && i + 2 < path.Length)
            {
                var c = (char)Convert.ToByte(path.Substring(i + 1, 2), 16);
                if (char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~') sb.Append(c);
                else sb.Append('%').Append(char.ToUpperInvariant(path[i + 1])).Append(char.ToUpperInvariant(path[i + 2]));
                i += 2;
            }
            else sb.Append(path[i]);
        }
        return RemoveDotSegments(sb.ToString());
    }

    private static string RemoveDotSegments(string path)
    {
        var segments = path.Split('/');
        var output = new List<string>();
        for (var i = 0; i < segments.Length; i++)
        {
            var s = segments[i];
            var last = i == segments.Length - 1;
            if (s == ".") { if (last) output.Add(""); continue; }
            if (s == "..")
            {
                if (output.Count > 1) output.RemoveAt(output.Count - 1);
                if (last) output.Add("");
                continue;
            }
            output.Add(s);
        }
        var result = string.Join('/', output);
        return result.StartsWith('/') ? result : "/" + result;
    }
}
