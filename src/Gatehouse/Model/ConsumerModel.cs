namespace Gatehouse.Model;

/// <summary>A Kong consumer: who is calling, once an auth plugin identified them.</summary>
public sealed record ConsumerModel
{
    public required Guid Id { get; init; }
    public string? Username { get; init; }
    public string? CustomId { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
}
