namespace Gatehouse.Model;

/// <summary>A Kong certificate: PEM certificate (chain) and private key, with the optional alternative pair of the other
/// key type (RSA and ECDSA). Presented by proxy TLS listeners to clients whose server name matches one of its SNIs: the ECDSA pair to clients
/// that can verify it, the RSA pair to the others.</summary>
public sealed record CertificateModel
{
    public required Guid Id { get; init; }
    public required string Cert { get; init; }
    public required string Key { get; init; }
    public string? CertAlt { get; init; }
    public string? KeyAlt { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
}

/// <summary>A Kong SNI: a server name (exact or one wildcard label) naming the certificate to present for it.</summary>
public sealed record SniModel
{
    public required Guid Id { get; init; }
    public required string Name { get; init; }
    public required Guid CertificateId { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
}

/// <summary>A Kong CA certificate: one PEM CA certificate and the SHA-256 hex digest of its DER.</summary>
public sealed record CaCertificateModel
{
    public required Guid Id { get; init; }
    public required string Cert { get; init; }
    public string? CertDigest { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
}
