namespace Gatehouse.Model;

/// <summary>A Kong upstream as the proxy sees it: a virtual hostname that services name in <c>host</c>, balanced over
/// its <see cref="TargetModel"/>s. Immutable, validated, defaults applied.</summary>
public sealed record UpstreamModel
{
    public required Guid Id { get; init; }
    public required string Name { get; init; }
    /// <summary>round-robin, consistent-hashing, least-connections or latency.</summary>
    public string Algorithm { get; init; } = "round-robin";
    public string HashOn { get; init; } = "none";
    public string HashFallback { get; init; } = "none";
    public string? HashOnHeader { get; init; }
    public string? HashFallbackHeader { get; init; }
    public string? HashOnCookie { get; init; }
    public string HashOnCookiePath { get; init; } = "/";
    public string? HashOnQueryArg { get; init; }
    public string? HashFallbackQueryArg { get; init; }
    public string? HashOnUriCapture { get; init; }
    public string? HashFallbackUriCapture { get; init; }
    public int Slots { get; init; } = 10000;
    /// <summary>Host header sent to the targets instead of the target's own host (Kong's <c>host_header</c>).</summary>
    public string? HostHeader { get; init; }
    public bool UseSrvName { get; init; }
    /// <summary>Presented to the upstream's targets when the service has no client_certificate of its own (Kong's fallback).</summary>
    public Guid? ClientCertificateId { get; init; }
    /// <summary>The <c>healthchecks</c> record as JSON, every default filled in (the health checker reads it).</summary>
    public string HealthchecksJson { get; init; } = "{}";
    /// <summary><c>healthchecks.threshold</c>: the percentage of weight that must be healthy for the upstream to take
    /// tries (0: no threshold).</summary>
    public double HealthThreshold { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
}
