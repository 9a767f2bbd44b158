namespace Gatehouse.Model;

/// <summary>
/// A Kong service as the proxy sees it: immutable, already validated, defaults applied.
/// Built from a stored entity row by the store layer; never mutated afterwards.
/// </summary>
public sealed record ServiceModel
{
    public required Guid Id { get; init; }
    /// <summary>The entity as the Admin API returns it (UTF-8 JSON, every field of its schema; Kong's
    /// <c>kong.router.service</c>). Empty for a model not built from a stored entity, and on a node with <c>wasm = off</c> (<see cref="GatewayConfig.EntityDocuments"/>).</summary>
    public ReadOnlyMemory<byte> Document { get; init; }
    public string? Name { get; init; }
    /// <summary>http, https, grpc, grpcs, tcp, tls, tls_passthrough, udp, ws, wss.</summary>
    public string Protocol { get; init; } = "http";
    public required string Host { get; init; }
    public int Port { get; init; } = 80;
    public string? Path { get; init; }
    public int Retries { get; init; } = 5;
    /// <summary>Milliseconds.</summary>
    public int ConnectTimeout { get; init; } = 60_000;
    public int WriteTimeout { get; init; } = 60_000;
    public int ReadTimeout { get; init; } = 60_000;
    public bool Enabled { get; init; } = true;
    public bool? TlsVerify { get; init; }
    public int? TlsVerifyDepth { get; init; }
    /// <summary>Ids of the CA certificates that make the trust store when verifying the upstream (empty: the global one).</summary>
    public IReadOnlyList<Guid> CaCertificateIds { get; init; } = [];
    /// <summary>The certificate presented to the upstream when it asks for one (mTLS).</summary>
    public Guid? ClientCertificateId { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public long CreatedAt { get; init; }
    public long UpdatedAt { get; init; }
}
