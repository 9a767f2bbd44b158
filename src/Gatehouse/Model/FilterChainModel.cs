using System.Collections.Immutable;

namespace Gatehouse.Model;

/// <summary>A <c>filter_chains</c> entity as the data plane uses it: attached to one service or one route.</summary>
public sealed record FilterChainModel
{
    public required Guid Id { get; init; }
    public string? Name { get; init; }
    public bool Enabled { get; init; } = true;
    public Guid? RouteId { get; init; }
    public Guid? ServiceId { get; init; }
    /// <summary>In execution order; the same filter may appear several times.</summary>
    public ImmutableArray<FilterEntryModel> Filters { get; init; } = [];
    public IReadOnlyList<string> Tags { get; init; } = [];
}

/// <summary>One filter entry of a chain. <see cref="Configuration"/> is what the filter receives: a string config
/// verbatim, any other JSON serialized, null as empty (Kong §5.5).</summary>
public sealed record FilterEntryModel(string Name, bool Enabled, string Configuration);
