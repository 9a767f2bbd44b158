using System.Text.RegularExpressions;

namespace Gatehouse.Routing;

/// <summary>
/// Captures of a regex route path (Kong's <c>uri_captures</c>): <see cref="Groups"/> by number (0 = whole match)
/// numbered as PCRE does (left to right, named groups included: <see cref="PathRegex"/>) and <see cref="Named"/> by
/// name. Empty for prefix matches.
/// </summary>
public sealed class PathCaptures
{
    public static PathCaptures None { get; } = new([], new Dictionary<string, string>());

    public IReadOnlyList<string?> Groups { get; }
    public IReadOnlyDictionary<string, string> Named { get; }

    private PathCaptures(IReadOnlyList<string?> groups, IReadOnlyDictionary<string, string> named)
    {
        Groups = groups;
        Named = named;
    }

    internal static PathCaptures From(PathRegex path, Match match)
    {
        var groups = new string?[match.Groups.Count];
        groups[0] = match.Value;
        for (var n = 1; n < groups.Length && n <= path.CaptureOrder.Length; n++)
            groups[n] = match.Groups[path.CaptureOrder[n - 1]] is { Success: true } g ? g.Value : null;
        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i < match.Groups.Count; i++)
        {
            var name = path.Regex.GroupNameFromNumber(i);
            if (match.Groups[i].Success && !int.TryParse(name, out _)) named[name] = match.Groups[i].Value;
        }
        return new PathCaptures(groups, named);
    }
}
