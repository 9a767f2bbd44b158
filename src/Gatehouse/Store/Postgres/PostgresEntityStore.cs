using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Npgsql;
using NpgsqlTypes;

namespace Gatehouse.Store.Postgres;

/// <summary>
/// <see cref="IEntityStore"/> on PostgreSQL (<c>database = postgres</c>), shared by every node of a cluster. Same
/// contract and row shape as <see cref="SqliteEntityStore"/>; constraints are enforced by the database (primary and
/// unique keys) so two nodes writing at once cannot both win. Reads go to the <c>pg_ro_*</c> replica when one is set.
/// </summary>
public sealed class PostgresEntityStore : IEntityStore, IAsyncDisposable, IDisposable
{
    /// <summary>pg_advisory_lock key that serializes Admin writes across nodes (a constraint check and its write).</summary>
    private const long WriteLockKey = 0x6761_7465_0001;
    /// <summary>pg_advisory_xact_lock key that serializes migrations of nodes starting at once.</summary>
    private const long MigrationLockKey = 0x6761_7465_0002;

    private readonly PostgresConnections _db;
    private readonly EntityRegistry _registry;
    private readonly TimeProvider _time;
    /// <summary>Reads go to the pg_ro_* replica (when one is set); false for <see cref="Primary"/>.</summary>
    private readonly bool _readsOnReplica;

    public PostgresEntityStore(PostgresConnections db, EntityRegistry registry, TimeProvider time)
        : this(db, registry, time, readsOnReplica: true)
    {
    }

    private PostgresEntityStore(PostgresConnections db, EntityRegistry registry, TimeProvider time, bool readsOnReplica)
    {
        _db = db ?? throw new ArgumentNullException(nameof(db));
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _readsOnReplica = readsOnReplica && db.ReadReplica is not null;
        Primary = _readsOnReplica ? new PostgresEntityStore(db, registry, time, readsOnReplica: false) : this;
    }

    public PostgresConnections Connections => _db;

    /// <summary>This store with every read on the primary: the DAO's checks inside a write (existence, uniqueness,
    /// foreign keys) must see the committed rows, which a lagging replica may not have yet.</summary>
    public IEntityStore Primary { get; }

    /// <summary>Migrates (<c>migrations up</c>, <c>start --run-migrations</c>); see <see cref="FirstContactAsync{T}"/>.</summary>
    public Task<IReadOnlyList<string>> MigrateAsync(CancellationToken ct) => FirstContactAsync(() => Migrate(ct), ct);

    /// <summary>
    /// What a start or a <c>migrations</c> command does first. A server that refuses the settings (password, database,
    /// a certificate pg_ssl_verify rejects) is reported in one line naming it and the keys, not as a driver stack
    /// trace; a server that cannot be reached at all stays a <see cref="Outage.DatabaseUnavailableException"/> (a node
    /// may then start on its persisted snapshot). With a read replica, it is contacted too: a replica that cannot be
    /// used stops the start, as a bad pg_* setting does.
    /// </summary>
    private async Task<T> FirstContactAsync<T>(Func<Task<T>> primary, CancellationToken ct)
    {
        T result;
        try
        {
            result = await primary();
        }
        catch (Exception e) when (IsDriverError(e))
        {
            throw new InvalidOperationException(
                $"cannot use the PostgreSQL server at {_db.Describe()} (pg_host, pg_port, pg_user, pg_password, pg_database, pg_ssl): {Reason(e)}", e);
        }
        if (_db.ReadReplica is null) return result;
        try
        {
            await _db.RunAsync(read: true, async conn => { await Exec(conn, null, "SELECT 1", ct); return true; }, ct);
        }
        catch (Exception e) when (IsDriverError(e) || e is Outage.DatabaseUnavailableException)
        {
            throw new InvalidOperationException(
                $"cannot use the PostgreSQL read replica at {_db.Describe(replica: true)} (pg_ro_host, pg_ro_port, pg_ro_user, pg_ro_password, pg_ro_database, pg_ro_ssl): {Reason(e)}", e);
        }
        return result;
    }

    private static bool IsDriverError(Exception e) =>
        e is NpgsqlException or TimeoutException or System.Security.Authentication.AuthenticationException;

    /// <summary>The innermost message that says what went wrong (Npgsql wraps socket and TLS errors).</summary>
    private static string Reason(Exception e)
    {
        var messages = new List<string>();
        for (var x = e; x is not null; x = x.InnerException)
        {
            var message = x.Message.TrimEnd('.');
            if (!messages.Contains(message)) messages.Add(message);
        }
        return string.Join(": ", messages);
    }

    private Task<IReadOnlyList<string>> Migrate(CancellationToken ct) => _db.RunAsync(read: false, async conn =>
    {
        await using var tx = await conn.BeginTransactionAsync(ct);
        await Exec(conn, tx, $"SELECT pg_advisory_xact_lock({MigrationLockKey})", ct);
        if (_db.Options.Schema is { } schema)
        {
            await Exec(conn, tx, $"CREATE SCHEMA IF NOT EXISTS \"{schema.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", ct);
        }
        await Exec(conn, tx, "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, executed_at bigint NOT NULL)", ct);
        var ran = new List<string>();
        foreach (var (name, statements) in AllMigrations())
        {
            await using (var check = new NpgsqlCommand("SELECT 1 FROM schema_migrations WHERE name = @n", conn, tx))
            {
                check.Parameters.AddWithValue("n", name);
                if (await check.ExecuteScalarAsync(ct) is not null) continue;
            }
            foreach (var sql in statements) await Exec(conn, tx, sql, ct);
            await using var record = new NpgsqlCommand("INSERT INTO schema_migrations (name, executed_at) VALUES (@n, @t)", conn, tx);
            record.Parameters.AddWithValue("n", name);
            record.Parameters.AddWithValue("t", _time.GetUtcNow().ToUnixTimeSeconds());
            await record.ExecuteNonQueryAsync(ct);
            ran.Add(name);
        }
        await tx.CommitAsync(ct);
        return (IReadOnlyList<string>)ran;
    }, ct);

    private static string MigrationName(EntitySchema schema) => "create_" + schema.Name;

    /// <summary>One table per entity, then the bundled plugins' own tables (<see cref="PostgresPluginMigrations"/>).</summary>
    private IEnumerable<(string Name, IReadOnlyList<string> Statements)> AllMigrations() =>
        _registry.Schemas.Select(s => (MigrationName(s), (IReadOnlyList<string>)PostgresDdl.CreateTable(s).ToList()))
            .Concat(PostgresPluginMigrations.All);

    public IReadOnlyList<string> Migrations => [.. AllMigrations().Select(m => m.Name)];

    public Task<IReadOnlyList<ExecutedMigration>?> ExecutedMigrationsAsync(CancellationToken ct) =>
        FirstContactAsync(() => ExecutedMigrations(ct), ct);

    private Task<IReadOnlyList<ExecutedMigration>?> ExecutedMigrations(CancellationToken ct) => _db.RunAsync(read: false, async conn =>
    {
        // to_regclass resolves through the search path, so pg_schema is honoured
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('schema_migrations') IS NOT NULL", conn))
            if (await exists.ExecuteScalarAsync(ct) is not true) return null;
        await using var cmd = new NpgsqlCommand("SELECT name, executed_at FROM schema_migrations ORDER BY executed_at, name", conn);
        var list = new List<ExecutedMigration>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) list.Add(new ExecutedMigration(reader.GetString(0), DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(1))));
        return (IReadOnlyList<ExecutedMigration>?)list;
    }, ct);

    /// <summary>Drops the tables under the migration lock, so a node migrating at the same time waits for the reset.</summary>
    public Task ResetAsync(CancellationToken ct) => _db.RunAsync(read: false, async conn =>
    {
        await using var tx = await conn.BeginTransactionAsync(ct);
        await Exec(conn, tx, $"SELECT pg_advisory_xact_lock({MigrationLockKey})", ct);
        // everything Gatehouse keeps in the database: entities, plugins' own tables, the nodes' cluster tables
        var tables = _registry.Schemas.Select(s => s.Name).Concat(PostgresPluginMigrations.Tables).Concat(PostgresClusterTables.Tables);
        foreach (var table in tables) await Exec(conn, tx, $"DROP TABLE IF EXISTS \"{table}\" CASCADE", ct);
        await Exec(conn, tx, "DROP TABLE IF EXISTS schema_migrations", ct);
        await tx.CommitAsync(ct);
        return true;
    }, ct);

    public Task<JsonObject?> SelectAsync(EntitySchema schema, Guid id, CancellationToken ct) => _db.RunAsync(read: _readsOnReplica, async conn =>
    {
        await using var cmd = new NpgsqlCommand($"SELECT doc FROM \"{schema.Name}\" WHERE id = @v", conn);
        cmd.Parameters.AddWithValue("v", id);
        return FirstOrNull(await ReadDocs(cmd, ct));
    }, ct);

    public Task<JsonObject?> SelectByUniqueAsync(EntitySchema schema, string field, string value, CancellationToken ct)
    {
        var def = schema.Field(field) ?? throw new ArgumentException($"unknown field {field}", nameof(field));
        return _db.RunAsync(read: _readsOnReplica, async conn =>
        {
            await using var cmd = new NpgsqlCommand($"SELECT doc FROM \"{schema.Name}\" WHERE \"{EntityColumns.Column(def)}\" = @v", conn);
            cmd.Parameters.AddWithValue("v", value);
            return FirstOrNull(await ReadDocs(cmd, ct));
        }, ct);
    }

    public Task<EntityPage> PageAsync(EntitySchema schema, PageQuery query, CancellationToken ct) => _db.RunAsync(read: _readsOnReplica, async conn =>
    {
        await using var cmd = new NpgsqlCommand { Connection = conn };
        var where = new List<string>();
        if (query.After is { } after) { where.Add("id > @after"); cmd.Parameters.AddWithValue("after", after); }
        if (query.Foreign is { } fk)
        {
            var def = schema.Field(fk.Field) ?? throw new ArgumentException($"unknown field {fk.Field}", nameof(query));
            where.Add($"\"{EntityColumns.Column(def)}\" = @fk");
            cmd.Parameters.AddWithValue("fk", fk.Id.ToString("D"));
        }
        if (query.Tags is { } tags)
        {
            // Kong: ?tags=a,b is "every one" (@>), ?tags=a/b "any of them" (&&)
            where.Add(PostgresDdl.HasTags(schema) ? (tags.MatchAll ? "tags @> @tags" : "tags && @tags") : "false");
            cmd.Parameters.Add(new NpgsqlParameter("tags", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = tags.Tags.ToArray() });
        }
        cmd.CommandText = $"SELECT doc FROM \"{schema.Name}\"" + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")
            + " ORDER BY id LIMIT @limit";
        cmd.Parameters.AddWithValue("limit", (long)query.Size + 1);
        var items = await ReadDocs(cmd, ct);
        if (items.Count <= query.Size) return new EntityPage(items, null);
        items.RemoveAt(items.Count - 1);
        return new EntityPage(items, EntityJson.Guid(items[^1], "id"));
    }, ct);

    public Task<IReadOnlyList<JsonObject>> ListAllAsync(EntitySchema schema, CancellationToken ct) => _db.RunAsync(read: _readsOnReplica, async conn =>
    {
        await using var cmd = new NpgsqlCommand($"SELECT doc FROM \"{schema.Name}\" ORDER BY id", conn);
        return (IReadOnlyList<JsonObject>)await ReadDocs(cmd, ct);
    }, ct);

    /// <summary>One REPEATABLE READ transaction on the primary for every table: a node never publishes half of another
    /// node's change, and never a replica's older state after hearing of a change (pg_ro_* serves the other reads).</summary>
    public Task<IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>>> SnapshotAsync(IEnumerable<EntitySchema> schemas, CancellationToken ct) =>
        _db.RunAsync(read: false, async conn =>
        {
            await using var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
            var rows = new Dictionary<EntitySchema, IReadOnlyList<JsonObject>>();
            foreach (var schema in schemas)
            {
                await using var cmd = new NpgsqlCommand($"SELECT doc FROM \"{schema.Name}\" ORDER BY id", conn, tx);
                rows[schema] = await ReadDocs(cmd, ct);
            }
            await tx.CommitAsync(ct);
            return (IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>>)rows;
        }, ct);

    public Task<StoreWriteOutcome> InsertAsync(EntitySchema schema, JsonObject entity, CancellationToken ct) =>
        _db.RunAsync(read: false, conn => Write(conn, null, schema, entity, insert: true, ct), ct);

    public Task<StoreWriteOutcome> UpdateAsync(EntitySchema schema, JsonObject entity, CancellationToken ct) =>
        _db.RunAsync(read: false, conn => Write(conn, null, schema, entity, insert: false, ct), ct);

    public Task<bool> DeleteAsync(EntitySchema schema, Guid id, CancellationToken ct) => _db.RunAsync(read: false, async conn =>
    {
        await using var cmd = new NpgsqlCommand($"DELETE FROM \"{schema.Name}\" WHERE id = @id", conn);
        cmd.Parameters.AddWithValue("id", id);
        return await cmd.ExecuteNonQueryAsync(ct) > 0;
    }, ct);

    public Task ReplaceAllAsync(IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> entities, CancellationToken ct) =>
        _db.RunAsync(read: false, async conn =>
        {
            await using var tx = await conn.BeginTransactionAsync(ct);
            foreach (var schema in entities.Keys) await Exec(conn, tx, $"DELETE FROM \"{schema.Name}\"", ct);
            foreach (var (schema, rows) in entities)
                foreach (var row in rows)
                    if (await Write(conn, tx, schema, row, insert: true, ct) != StoreWriteOutcome.Ok)
                        throw new InvalidOperationException($"conflicting {schema.Name} row {row["id"]}");
            await tx.CommitAsync(ct);
            return true;
        }, ct);

    /// <summary>Holds a session advisory lock until disposed: the DAO's writes (check, then write) are serialized
    /// across every node sharing the database, not only within this process.</summary>
    public async Task<IAsyncDisposable> LockWritesAsync(CancellationToken ct)
    {
        var conn = await _db.OpenPrimaryAsync(ct);
        try
        {
            await Exec(conn, null, $"SELECT pg_advisory_lock({WriteLockKey})", ct);
            return new AdvisoryLock(conn);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && PostgresUnavailability.IsUnavailable(e))
        {
            await conn.DisposeAsync();
            throw _db.Unavailable(_db.Primary, e);
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    private sealed class AdvisoryLock(NpgsqlConnection conn) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try { await Exec(conn, null, $"SELECT pg_advisory_unlock({WriteLockKey})", CancellationToken.None); }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException) { /* the session is gone: so is its lock */ }
            finally { await conn.DisposeAsync(); }
        }
    }

    private static async Task<StoreWriteOutcome> Write(NpgsqlConnection conn, NpgsqlTransaction? tx, EntitySchema schema,
        JsonObject entity, bool insert, CancellationToken ct)
    {
        var indexed = EntityColumns.IndexedFields(schema).ToList();
        await using var cmd = new NpgsqlCommand { Connection = conn, Transaction = tx };
        var names = new List<string> { "\"id\"", "\"doc\"" };
        var values = new List<string> { "@id", "@doc" };
        cmd.Parameters.AddWithValue("id", EntityJson.Guid(entity, "id"));
        cmd.Parameters.AddWithValue("doc", entity.ToJsonString());
        if (PostgresDdl.HasTags(schema))
        {
            names.Add("\"tags\"");
            values.Add("@tags");
            var tags = entity["tags"] is JsonArray a ? a.Select(t => t?.GetValue<string>() ?? "").ToArray() : null;
            cmd.Parameters.Add(new NpgsqlParameter("tags", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = (object?)tags ?? DBNull.Value });
        }
        for (var i = 0; i < indexed.Count; i++)
        {
            names.Add($"\"{EntityColumns.Column(indexed[i])}\"");
            values.Add("@c" + i);
            cmd.Parameters.Add(new NpgsqlParameter("c" + i, NpgsqlDbType.Text) { Value = (object?)EntityColumns.Value(entity, indexed[i]) ?? DBNull.Value });
        }
        cmd.CommandText = insert
            ? $"INSERT INTO \"{schema.Name}\" ({string.Join(", ", names)}) VALUES ({string.Join(", ", values)})"
            : $"UPDATE \"{schema.Name}\" SET {string.Join(", ", names.Skip(1).Zip(values.Skip(1), (n, v) => $"{n} = {v}"))} WHERE id = @id";
        try
        {
            return await cmd.ExecuteNonQueryAsync(ct) > 0 ? StoreWriteOutcome.Ok : StoreWriteOutcome.NotFound;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return e.ConstraintName == schema.Name + "_pkey" ? StoreWriteOutcome.PrimaryKeyViolation : StoreWriteOutcome.UniqueViolation;
        }
    }


    private static JsonObject? FirstOrNull(List<JsonObject> docs) => docs.Count > 0 ? docs[0] : null;

    private static async Task<List<JsonObject>> ReadDocs(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<JsonObject>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) list.Add(JsonNode.Parse(reader.GetString(0))!.AsObject());
        return list;
    }

    private static async Task Exec(NpgsqlConnection conn, NpgsqlTransaction? tx, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public ValueTask DisposeAsync() => _db.DisposeAsync();

    public void Dispose() => _db.DisposeAsync().AsTask().GetAwaiter().GetResult();
}
