using System.Text.RegularExpressions;

namespace Gatehouse.Routing;

/// <summary>Helpers for route paths: prefixes, and regexes written with a leading <c>~</c>.</summary>
public static class RoutePaths
{
    /// <summary>NonBacktracking: matching time is linear in the input, so no pattern can hang a worker.</summary>
    public const RegexOptions Options = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant;

    public static bool IsRegex(string path) => path.StartsWith('~');

    /// <summary>Compiles a <c>~</c> path; anchored at the start as Kong does (<c>^</c> is prepended). Throws
    /// <see cref="ArgumentException"/> for a pattern that is not a regex on its own (the wrapper's ")" must not close
    /// a group the pattern left open) and <see cref="NotSupportedException"/> for what the linear-time engine cannot
    /// run (lookarounds, backreferences, atomic groups, conditionals).</summary>
    public static Regex CompileRegex(string path)
    {
        var pattern = path[1..];
        _ = new Regex(pattern, RegexOptions.CultureInvariant); // parse only: the pattern stands alone
        return new("^(?:" + pattern + ")", Options);
    }
}
