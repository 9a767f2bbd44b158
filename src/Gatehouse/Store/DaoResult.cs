using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Store;

/// <summary>Outcome of a DAO operation: the entity (may be null for deletes/misses) or a Kong error.</summary>
public readonly record struct DaoResult(JsonObject? Entity, DbError? Error)
{
    public static DaoResult Ok(JsonObject? entity) => new(entity, null);
    public static DaoResult Fail(DbError error) => new(null, error);
}
