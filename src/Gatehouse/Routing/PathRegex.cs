using System.Text.RegularExpressions;

namespace Gatehouse.Routing;

/// <summary>
/// A compiled <c>~</c> route path and its capture numbering as PCRE (Kong's <c>uri_captures</c>) counts it: groups
/// numbered left to right by their opening parenthesis, named ones included. .NET numbers unnamed groups first and
/// named ones after, so <see cref="CaptureOrder"/> maps PCRE number n (index n - 1) to the .NET group number.
/// </summary>
internal sealed class PathRegex
{
    public PathRegex(string path)
    {
        Regex = RoutePaths.CompileRegex(path);
        var order = new List<int>();
        var unnamed = 0;
        foreach (var name in CaptureNames(Regex.ToString()))
            order.Add(name is null ? ++unnamed : Regex.GroupNumberFromName(name));
        CaptureOrder = [.. order];
    }

    public Regex Regex { get; }
    public int[] CaptureOrder { get; }

    /// <summary>Capturing groups in pattern order: null for an unnamed group, else its name.</summary>
    private static List<string?> CaptureNames(string pattern)
    {
        var names = new List<string?>();
        for (var i = 0; i < pattern.Length; i++)
        {
            switch (pattern[i])
            {
                case '\\':
                    i++;
                    break;
                case '[':
                    i = EndOfClass(pattern, i);
                    break;
                case '(' when i + 1 < pattern.Length && pattern[i + 1] != '?':
                    names.Add(null);
                    break;
                case '(' when i + 3 < pattern.Length && pattern[i + 2] is '<' or '\'' && pattern[i + 3] is not ('=' or '!'):
                    var close = pattern.IndexOf(pattern[i + 2] == '<' ? '>' : '\'', i + 3);
                    if (close > 0) names.Add(pattern[(i + 3)..close]);
                    break;
            }
        }
        return names;
    }

    private static int EndOfClass(string pattern, int open)
    {
        var i = open + 1;
        if (i < pattern.Length && pattern[i] == '^') i++;
        if (i < pattern.Length && pattern[i] == ']') i++;
        for (; i < pattern.Length && pattern[i] != ']'; i++)
            if (pattern[i] == '\\') i++;
        return i;
    }
}
