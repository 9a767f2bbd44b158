using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Store;

/// <summary>
/// Schema-driven persistence of entities as JSON documents. Knows nothing about validation or Kong errors
/// (the <see cref="EntityDao"/> does): SQLite and PostgreSQL behave the same behind it. Implementations must be safe for concurrent calls.
/// </summary>
public interface IEntityStore
{
    /// <summary>The same store with reads on the primary server: what the DAO reads inside a write. Only a store with
    /// a read replica (pg_ro_*) returns another view.</summary>
    IEntityStore Primary => this;

    /// <summary>Creates or upgrades the storage schema; idempotent. Returns the migrations it ran. Safe when several
    /// processes migrate one database at once: each migration runs once, and a schema is never half created.</summary>
    Task<IReadOnlyList<string>> MigrateAsync(CancellationToken ct);

    /// <summary>The migrations this binary knows, in the order they run (what <see cref="MigrateAsync"/> would run on
    /// an empty database).</summary>
    IReadOnlyList<string> Migrations { get; }

    /// <summary>The migrations recorded in the database, oldest first; null when it was never bootstrapped (no
    /// migrations table).</summary>
    Task<IReadOnlyList<ExecutedMigration>?> ExecutedMigrationsAsync(CancellationToken ct);

    /// <summary>Drops every table this store created, the migrations table included (<c>migrations reset</c>).</summary>
    Task ResetAsync(CancellationToken ct);

    Task<JsonObject?> SelectAsync(EntitySchema schema, Guid id, CancellationToken ct);

    /// <summary>Looks up a row by a unique field (e.g. the endpoint key "name").</summary>
    Task<JsonObject?> SelectByUniqueAsync(EntitySchema schema, string field, string value, CancellationToken ct);

    /// <summary>One page in primary key order.</summary>
    Task<EntityPage> PageAsync(EntitySchema schema, PageQuery query, CancellationToken ct);

    Task<IReadOnlyList<JsonObject>> ListAllAsync(EntitySchema schema, CancellationToken ct);

    /// <summary>Every row of every listed entity as of one moment, so a published configuration never holds half a
    /// change. The default reads table by table: right for a store whose writes this process serializes with its
    /// reloads (SQLite); a store other processes write must override it (PostgreSQL: one REPEATABLE READ transaction).</summary>
    async Task<IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>>> SnapshotAsync(IEnumerable<EntitySchema> schemas, CancellationToken ct)
    {
        var rows = new Dictionary<EntitySchema, IReadOnlyList<JsonObject>>();
        foreach (var schema in schemas) rows[schema] = await ListAllAsync(schema, ct);
        return rows;
    }

    Task<StoreWriteOutcome> InsertAsync(EntitySchema schema, JsonObject entity, CancellationToken ct);

    /// <summary>Replaces the row with the same id.</summary>
    Task<StoreWriteOutcome> UpdateAsync(EntitySchema schema, JsonObject entity, CancellationToken ct);

    Task<bool> DeleteAsync(EntitySchema schema, Guid id, CancellationToken ct);

    /// <summary>Serializes the DAO's writes (a constraint check, then its write) with those of every other process
    /// sharing the database, until the returned handle is disposed. A store only one process uses returns at once.</summary>
    Task<IAsyncDisposable> LockWritesAsync(CancellationToken ct);

    /// <summary>Atomically replaces every row of every listed entity (declarative configuration).</summary>
    Task ReplaceAllAsync(IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> entities, CancellationToken ct);
}

/// <summary>A migration recorded in the database: its name and when it ran.</summary>
public sealed record ExecutedMigration(string Name, DateTimeOffset ExecutedAt);

/// <summary>A page request: size, the last key of the previous page, and optional filters.</summary>
public sealed record PageQuery(int Size, Guid? After = null, TagFilter? Tags = null, ForeignFilter? Foreign = null);

/// <summary>Only rows whose foreign <see cref="Field"/> references <see cref="Id"/>.</summary>
public sealed record ForeignFilter(string Field, Guid Id);

/// <summary><c>?tags=a,b</c> (all of them) or <c>?tags=a/b</c> (any of them).</summary>
public sealed record TagFilter(IReadOnlyList<string> Tags, bool MatchAll);

/// <summary>Rows of one page; <see cref="Last"/> is set when another page exists.</summary>
public sealed record EntityPage(IReadOnlyList<JsonObject> Items, Guid? Last);

public enum StoreWriteOutcome { Ok, PrimaryKeyViolation, UniqueViolation, NotFound }
