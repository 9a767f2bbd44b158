using System.Text.Json.Nodes;

namespace Gatehouse.Model;

/// <summary>A configured plugin instance (Kong's <c>plugins</c> row): validated, config defaults applied.
/// Scope is the combination of route, service and consumer (all null = global).</summary>
public sealed record PluginModel
{
    public required Guid Id { get; init; }
    public required string Name { get; init; }
    public string? InstanceName { get; init; }
    /// <summary>The validated config record; read-only by convention (plugins parse it once per snapshot).</summary>
    public required JsonObject Config { get; init; }
    /// <summary>The stored config as given (a filter plugin's config may be a string, an object or null, Kong §2.5);
    /// filter plugins serialize it as chains do.</summary>
    public JsonNode? RawConfig { get; init; }
    public bool Enabled { get; init; } = true;
    public IReadOnlyList<string> Protocols { get; init; } = ["grpc", "grpcs", "http", "https"];
    public Guid? RouteId { get; init; }
    public Guid? ServiceId { get; init; }
    public Guid? ConsumerId { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public long CreatedAt { get; init; }
    public long UpdatedAt { get; init; }
}
