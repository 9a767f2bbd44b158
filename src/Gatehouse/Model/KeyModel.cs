namespace Gatehouse.Model;

/// <summary>A Kong key set: a named group of keys (deleting it deletes its keys).</summary>
public sealed record KeySetModel
{
    public required Guid Id { get; init; }
    public string? Name { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
}

/// <summary>A Kong key: one asymmetric key, as a JWK (a JSON string) or a PEM public and/or private key, named by
/// <see cref="Kid"/> within its optional set. Stored for plugins; no bundled Gatehouse plugin reads keys.</summary>
public sealed record KeyModel
{
    public required Guid Id { get; init; }
    public string? Name { get; init; }
    public required string Kid { get; init; }
    public Guid? SetId { get; init; }
    public string? Jwk { get; init; }
    public string? PemPrivateKey { get; init; }
    public string? PemPublicKey { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
}
