using System.Text.RegularExpressions;

namespace Gatehouse.Entities;

/// <summary>A regex with the error Kong reports when the rule fails (match, match_none, match_any).</summary>
public sealed record PatternRule(Regex Pattern, string Error)
{
    public static PatternRule Of(string pattern, string error) =>
        new(new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled), error);
}
