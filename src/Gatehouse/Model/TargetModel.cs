namespace Gatehouse.Model;

/// <summary>One target of an upstream: <c>host:port</c> as Kong stores it (normalised, port always present) and its
/// weight (0 takes it out of the balancer).</summary>
public sealed record TargetModel
{
    public required Guid Id { get; init; }
    public required Guid UpstreamId { get; init; }
    public required string Target { get; init; }
    public int Weight { get; init; } = 100;
    public IReadOnlyList<string> Tags { get; init; } = [];
    /// <summary>Unix seconds with milliseconds (Kong's auto_timestamp_ms).</summary>
    public double CreatedAt { get; init; }
}
