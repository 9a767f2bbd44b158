using Gatehouse.Model;

namespace Gatehouse.Tests.Routing;

/// <summary>
/// One row of the route-matching table: routes (built against a service whose path is <see cref="ServicePath"/>),
/// a request, and what must happen: the route that answers (null = 404) and, optionally, the path and Host the
/// upstream receives.
/// </summary>
public sealed record RouteCase(
    string Name,
    Func<ServiceModel, RouteModel[]> Routes,
    string Path,
    string? Host = null,
    string Method = "GET",
    (string Name, string Value)[]? Headers = null,
    string? ExpectRoute = null,
    string? ExpectUpstreamPath = null,
    string? ExpectUpstreamHost = null,
    string? ServicePath = null)
{
    public override string ToString() => Name;
}
