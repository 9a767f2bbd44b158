namespace Gatehouse.Model;

/// <summary>A key-auth credential (Kong's <c>keyauth_credentials</c>).</summary>
public sealed record KeyAuthCredentialModel(Guid Id, Guid ConsumerId, string Key);
