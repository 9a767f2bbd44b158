using Gatehouse.Model;

namespace Gatehouse.Routing;

/// <summary>
/// Kong's route priority for router_flavor traditional_compatible (kong/router/compat.lua <c>get_priority</c>), one
/// 64-bit number compared descending: bits 61-63 count the kinds of attributes a route sets (methods, hosts,
/// headers, snis, paths); bit 60 = every host is plain (no wildcard); bits 52-59 = number of headers; bit 51 = has a
/// regex path; bits 19-50 = regex_priority (only when a regex path exists); bits 0-18 = longest plain path length.
/// Ties are broken by created_at, then by position in the configuration (see <see cref="Router"/>).
/// </summary>
public static class RoutePriority
{
    private const int MaxHeaderCount = 255;
    private const ulong PlainHostOnlyBit = 1UL << 60;
    private const ulong RegexUrlBit = 1UL << 51;

    public static ulong Compute(RouteModel route)
    {
        ArgumentNullException.ThrowIfNull(route);
        ulong weight = 0;
        if (route.Methods.Count > 0) weight++;
        if (route.Hosts.Count > 0) weight++;
        if (route.Headers.Count > 0) weight++;
        if (route.Snis.Count > 0) weight++;
        var plainHostOnly = route.Hosts.Count > 0 && route.Hosts.All(h => !h.Contains('*'));
        var regex = false;
        var maxLength = 0;
        if (route.Paths.Count > 0)
        {
            weight++;
            foreach (var p in route.Paths)
            {
                if (RoutePaths.IsRegex(p)) regex = true;
                else maxLength = Math.Max(maxLength, p.Length);
            }
        }
        var headers = (ulong)Math.Min(route.Headers.Count, MaxHeaderCount);
        var regexPriority = regex ? (ulong)(uint)Math.Max(route.RegexPriority, 0) : 0UL;
        return (weight << 61)
               | (plainHostOnly ? PlainHostOnlyBit : 0)
               | (headers << 52)
               | (regex ? RegexUrlBit : 0)
               | ((regexPriority & 0xFFFFFFFF) << 19)
               | ((ulong)maxLength & 0x7FFFF);
    }
}
