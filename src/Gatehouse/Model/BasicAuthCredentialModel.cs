namespace Gatehouse.Model;

/// <summary>A basic-auth credential; <see cref="PasswordHash"/> is hex SHA1(password + consumer id), as Kong stores it.</summary>
public sealed record BasicAuthCredentialModel(Guid Id, Guid ConsumerId, string Username, string PasswordHash);
