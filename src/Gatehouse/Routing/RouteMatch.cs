namespace Gatehouse.Routing;

/// <summary>
/// The router's answer for one request: the route (and its service), the upstream path built per path_handling,
/// the stripped prefix (for X-Forwarded-Prefix), regex captures and the Host to send upstream when preserve_host.
/// </summary>
public sealed class RouteMatch
{
    public required CompiledRoute Route { get; init; }
    /// <summary>Path (no query) to request from the upstream service, as sent on the wire (escaped by
    /// <see cref="UriNormalizer.Escape"/>).</summary>
    public required string UpstreamPath { get; init; }
    /// <summary>The part of the normalised request path that strip_path removed (as the router matched it: decoded
    /// text, see <see cref="UriNormalizer"/>), or null; X-Forwarded-Prefix sends its bytes.</summary>
    public string? StrippedPrefix { get; init; }
    public PathCaptures Captures { get; init; } = PathCaptures.None;
}
