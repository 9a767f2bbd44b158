using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Store.Declarative;

/// <summary>A validated declarative configuration (rows per entity), or Kong's declarative error; either way, the
/// warnings about how the file was read (e.g. 1.1/2.1 route paths migrated).</summary>
public sealed record DeclarativeResult(IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>>? Entities, DbError? Error)
{
    public bool IsValid => Error is null;

    public IReadOnlyList<string> Warnings { get; init; } = [];
}
