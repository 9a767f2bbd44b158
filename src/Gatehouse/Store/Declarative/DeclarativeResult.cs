using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Store.Declarative;

/// <summary>A validated declarative configuration (rows per entity), or Kong's declarative error.</summary>
public sealed record DeclarativeResult(IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>>? Entities, DbError? Error)
{
    public bool IsValid => Error is null;
}
