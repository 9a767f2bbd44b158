using System.Text.RegularExpressions;

namespace Gatehouse.Routing;

/// <summary>Helpers for route paths: prefixes, and regexes written with a leading <c>~</c>.</summary>
public static class RoutePaths
{
    /// <summary>NonBacktracking: matching time is linear in the input, so no pattern can hang a worker.</summary>
    public const RegexOptions Options = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant;

    public static bool IsRegex(string path) => path.StartsWith('~');

    /// <summary>Compiles a <c>~</c> path; anchored at the start as Kong does (<c>^</c> is prepended).</summary>
    public static Regex CompileRegex(string path) => new("^(?:" + path[1..] + ")", Options);
}
