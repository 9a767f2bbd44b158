namespace Gatehouse.Model;

/// <summary>A Kong vault: <see cref="Prefix"/> names it in references (<c>{vault://prefix/…}</c>), <see cref="Name"/> is
/// its strategy (<c>env</c>), <see cref="EnvPrefix"/> the env vault's <c>config.prefix</c>.</summary>
public sealed record VaultModel
{
    public required Guid Id { get; init; }
    public required string Prefix { get; init; }
    public required string Name { get; init; }
    public string? EnvPrefix { get; init; }
}
