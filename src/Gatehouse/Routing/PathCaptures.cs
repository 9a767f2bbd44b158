using System.Text.RegularExpressions;

namespace Gatehouse.Routing;

/// <summary>
/// Captures of a regex route path (Kong's <c>uri_captures</c>): <see cref="Groups"/> by number (0 = whole match)
/// and <see cref="Named"/> by name. Empty for prefix matches.
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

    internal static PathCaptures From(Regex regex, Match match)
    {
        var groups = new string?[match.Groups.Count];
        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < match.Groups.Count; i++)
        {
            var g = match.Groups[i];
            groups[i] = g.Success ? g.Value : null;
            var name = regex.GroupNameFromNumber(i);
            if (g.Success && !int.TryParse(name, out _)) named[name] = g.Value;
        }
        return new PathCaptures(groups, named);
    }
}
