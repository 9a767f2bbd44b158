using System.Text.RegularExpressions;

namespace Gatehouse.Routing;

/// <summary>Which route path matched: the length of the request path it covered and, for a regex, its match.</summary>
internal readonly record struct PathHit(int Length, PathRegex? Regex, Match? Match)
{
    public static PathHit NoPath => new(-1, null, null);
    public bool HasPath => Length >= 0;
}
