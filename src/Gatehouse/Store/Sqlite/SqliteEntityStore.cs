using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Microsoft.Data.Sqlite;

namespace Gatehouse.Store.Sqlite;

/// <summary>
/// <see cref="IEntityStore"/> on SQLite: a file for the default database mode, or a private temporary database for
/// DB-less mode (the declarative configuration is loaded into it, so reads, paging and tag filters behave the same in
/// both modes). Calls are serialized: the Admin API is not a hot path and SQLite allows one writer anyway.
/// </summary>
public sealed class SqliteEntityStore : IEntityStore, IDisposable
{
    private readonly string _connectionString;
    private readonly SqliteConnection? _keepAlive;
    private readonly bool _onlyConnection;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TimeProvider _time;
    private readonly EntityRegistry _registry;

    /// <param name="keepOpen">one connection stays open as long as the store: a shared-cache memory database lives as long
    /// as one connection to it is open, a temporary one is that connection's own</param>
    /// <param name="onlyConnection">every call uses the open connection (a temporary database has no other)</param>
    private SqliteEntityStore(string connectionString, bool keepOpen, EntityRegistry registry, TimeProvider time, bool onlyConnection = false)
    {
        _connectionString = connectionString;
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _onlyConnection = onlyConnection;
        if (keepOpen)
        {
            _keepAlive = new SqliteConnection(connectionString);
            _keepAlive.Open();
        }
    }

    public static SqliteEntityStore ForFile(string path, EntityRegistry registry, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        var cs = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false };
        return new SqliteEntityStore(cs.ToString(), keepOpen: false, registry, time);
    }

    /// <summary>DB-less mode's store: a private temporary database (SQLite's empty file name), whose pages beyond a small
    /// cache are written to a file SQLite deletes as it opens it, so the rows are in the OS's page cache, not in the
    /// process: 100,000 routes' rows were ~85 MB of the gateway's RSS in a memory database. Gone when the store is.</summary>
    public static SqliteEntityStore Temporary(EntityRegistry registry, TimeProvider time)
    {
        var cs = new SqliteConnectionStringBuilder { DataSource = "", Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false };
        return new SqliteEntityStore(cs.ToString(), keepOpen: true, registry, time, onlyConnection: true);
    }

    /// <summary>What the store's connections open: a path, a memory database's name, or "" (a temporary database).</summary>
    internal string DataSource => new SqliteConnectionStringBuilder(_connectionString).DataSource;

    public static SqliteEntityStore InMemory(EntityRegistry registry, TimeProvider time)
    {
        var cs = new SqliteConnectionStringBuilder
        {
            DataSource = "gatehouse-dbless-" + Guid.NewGuid().ToString("N"),
            Mode = SqliteOpenMode.Memory,
            Cache = SqliteCacheMode.Shared,
        };
        return new SqliteEntityStore(cs.ToString(), keepOpen: true, registry, time);
    }

    /// <summary>All pending migrations in one immediate (write-locking) transaction: another process migrating the
    /// same file waits, then finds them recorded; a failure leaves no half schema.</summary>
    public Task<IReadOnlyList<string>> MigrateAsync(CancellationToken ct) => Locked(async conn =>
    {
        using var tx = conn.BeginTransaction(deferred: false);
        await Exec(conn, tx, SqliteMigrations.MigrationsTable, ct);
        var ran = new List<string>();
        foreach (var migration in SqliteMigrations.For(_registry))
        {
            using var check = conn.CreateCommand();
            check.Transaction = tx;
            check.CommandText = "SELECT 1 FROM schema_migrations WHERE name = $n";
            check.Parameters.AddWithValue("$n", migration.Name);
            if (await check.ExecuteScalarAsync(ct) is not null) continue;
            foreach (var sql in migration.Statements) await Exec(conn, tx, sql, ct);
            using var record = conn.CreateCommand();
            record.Transaction = tx;
            record.CommandText = "INSERT INTO schema_migrations (name, executed_at) VALUES ($n, $t)";
            record.Parameters.AddWithValue("$n", migration.Name);
            record.Parameters.AddWithValue("$t", _time.GetUtcNow().ToUnixTimeSeconds());
            await record.ExecuteNonQueryAsync(ct);
            ran.Add(migration.Name);
        }
        tx.Commit();
        return (IReadOnlyList<string>)ran;
    });

    public IReadOnlyList<string> Migrations => [.. SqliteMigrations.For(_registry).Select(m => m.Name)];

    public Task<IReadOnlyList<ExecutedMigration>?> ExecutedMigrationsAsync(CancellationToken ct) => Locked(async conn =>
    {
        using var exists = conn.CreateCommand();
        exists.CommandText = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
        if (await exists.ExecuteScalarAsync(ct) is null) return null;
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT name, executed_at FROM schema_migrations ORDER BY executed_at, rowid";
        var list = new List<ExecutedMigration>();
        using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) list.Add(new ExecutedMigration(reader.GetString(0), DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(1))));
        return (IReadOnlyList<ExecutedMigration>?)list;
    });

    public Task ResetAsync(CancellationToken ct) => Locked(async conn =>
    {
        using var tx = conn.BeginTransaction();
        // children first is not needed (no SQL foreign keys); every table this store may have created
        foreach (var schema in _registry.Schemas) await Exec(conn, tx, $"DROP TABLE IF EXISTS \"{schema.Name}\"", ct);
        await Exec(conn, tx, "DROP TABLE IF EXISTS schema_migrations", ct);
        tx.Commit();
        return true;
    });

    public Task<JsonObject?> SelectAsync(EntitySchema schema, Guid id, CancellationToken ct) =>
        Locked(conn => SelectOne(conn, $"SELECT doc FROM \"{schema.Name}\" WHERE id = $v", Key(id), ct));

    public Task<JsonObject?> SelectByUniqueAsync(EntitySchema schema, string field, string value, CancellationToken ct)
    {
        var def = schema.Field(field) ?? throw new ArgumentException($"unknown field {field}", nameof(field));
        return Locked(conn => SelectOne(conn, $"SELECT doc FROM \"{schema.Name}\" WHERE \"{EntityColumns.Column(def)}\" = $v", value, ct));
    }

    public Task<EntityPage> PageAsync(EntitySchema schema, PageQuery query, CancellationToken ct) => Locked(async conn =>
    {
        using var cmd = conn.CreateCommand();
        var where = new List<string>();
        if (query.After is { } after) { where.Add("id > $after"); cmd.Parameters.AddWithValue("$after", Key(after)); }
        if (query.Foreign is { } fk)
        {
            var def = schema.Field(fk.Field) ?? throw new ArgumentException($"unknown field {fk.Field}", nameof(query));
            where.Add($"\"{EntityColumns.Column(def)}\" = $fk");
            cmd.Parameters.AddWithValue("$fk", Key(fk.Id));
        }
        if (query.Tags is { } tags) where.Add(TagClause(cmd, tags));
        cmd.CommandText = $"SELECT doc FROM \"{schema.Name}\"" + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")
            + " ORDER BY id LIMIT $limit";
        cmd.Parameters.AddWithValue("$limit", query.Size + 1);
        var items = await ReadDocs(cmd, ct);
        if (items.Count <= query.Size) return new EntityPage(items, null);
        items.RemoveAt(items.Count - 1);
        return new EntityPage(items, EntityJson.Guid(items[^1], "id"));
    });

    public Task<IReadOnlyList<JsonObject>> ListAllAsync(EntitySchema schema, CancellationToken ct) => Locked(async conn =>
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT doc FROM \"{schema.Name}\" ORDER BY id";
        return (IReadOnlyList<JsonObject>)await ReadDocs(cmd, ct);
    });

    public Task<StoreWriteOutcome> InsertAsync(EntitySchema schema, JsonObject entity, CancellationToken ct) =>
        Locked(conn => Write(conn, null, schema, entity, insert: true, ct));

    public Task<StoreWriteOutcome> UpdateAsync(EntitySchema schema, JsonObject entity, CancellationToken ct) =>
        Locked(conn => Write(conn, null, schema, entity, insert: false, ct));

    public Task<bool> DeleteAsync(EntitySchema schema, Guid id, CancellationToken ct) => Locked(async conn =>
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"DELETE FROM \"{schema.Name}\" WHERE id = $id";
        cmd.Parameters.AddWithValue("$id", Key(id));
        return await cmd.ExecuteNonQueryAsync(ct) > 0;
    });

    public Task ReplaceAllAsync(IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> entities, CancellationToken ct) =>
        Locked(async conn =>
        {
            using var tx = conn.BeginTransaction();
            foreach (var schema in entities.Keys) await Exec(conn, tx, $"DELETE FROM \"{schema.Name}\"", ct);
            foreach (var (schema, rows) in entities)
            {
                if (rows.Count == 0) continue;
                // one prepared INSERT per table, parameters rebound per row: a declarative file of 100,000 routes
                // used to build and prepare 100,000 statements
                var indexed = EntityColumns.IndexedFields(schema).ToArray();
                using var cmd = conn.CreateCommand();
                cmd.Transaction = tx;
                cmd.CommandText = InsertSql(schema, indexed);
                var id = cmd.Parameters.Add("$id", SqliteType.Text);
                var doc = cmd.Parameters.Add("$doc", SqliteType.Text);
                var values = indexed.Select((_, i) => cmd.Parameters.Add("$c" + i, SqliteType.Text)).ToArray();
                cmd.Prepare();
                if (rows is JsonTextRows text)
                {
                    // a declarative load's rows: their text is the document, and the indexed columns are read from it
                    // (parsing each row and writing it again was work done twice over 100,000 rows)
                    var columns = new string?[indexed.Length];
                    for (var r = 0; r < text.Count; r++)
                    {
                        var json = text.TextAt(r).Span;
                        id.Value = text.IdAt(r);
                        doc.Value = Encoding.UTF8.GetString(json);
                        EntityColumns.Values(json, indexed, columns);
                        for (var i = 0; i < indexed.Length; i++) values[i].Value = (object?)columns[i] ?? DBNull.Value;
                        await InsertRow(cmd, schema, text.IdAt(r), ct);
                    }
                    continue;
                }
                foreach (var row in rows)
                {
                    id.Value = EntityJson.String(row, "id") ?? throw new ArgumentException("entity without id");
                    doc.Value = row.ToJsonString();
                    for (var i = 0; i < indexed.Length; i++) values[i].Value = (object?)EntityColumns.Value(row, indexed[i]) ?? DBNull.Value;
                    await InsertRow(cmd, schema, row["id"], ct);
                }
            }
            tx.Commit();
            return true;
        });

    private static async Task InsertRow(SqliteCommand insert, EntitySchema schema, object? id, CancellationToken ct)
    {
        try { await insert.ExecuteNonQueryAsync(ct); }
        catch (SqliteException e) when (e.SqliteErrorCode == 19)
        {
            throw new InvalidOperationException($"conflicting {schema.Name} row {id}", e);
        }
    }

    /// <summary>One process owns a SQLite file: the DAO's own gate is enough.</summary>
    public Task<IAsyncDisposable> LockWritesAsync(CancellationToken ct) => Task.FromResult<IAsyncDisposable>(NoLock.Instance);

    private sealed class NoLock : IAsyncDisposable
    {
        public static readonly NoLock Instance = new();
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    public void Dispose()
    {
        _keepAlive?.Dispose();
        _gate.Dispose();
    }

    private static async Task<StoreWriteOutcome> Write(SqliteConnection conn, SqliteTransaction? tx, EntitySchema schema,
        JsonObject entity, bool insert, CancellationToken ct)
    {
        var indexed = EntityColumns.IndexedFields(schema).ToList();
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        var columns = new List<string> { "id", "doc" };
        cmd.Parameters.AddWithValue("$id", EntityJson.String(entity, "id") ?? throw new ArgumentException("entity without id"));
        cmd.Parameters.AddWithValue("$doc", entity.ToJsonString());
        for (var i = 0; i < indexed.Count; i++)
        {
            columns.Add(EntityColumns.Column(indexed[i]));
            cmd.Parameters.AddWithValue("$c" + i, (object?)EntityColumns.Value(entity, indexed[i]) ?? DBNull.Value);
        }
        var names = columns.Select(c => $"\"{c}\"").ToList();
        var values = new List<string> { "$id", "$doc" };
        values.AddRange(indexed.Select((_, i) => "$c" + i));
        cmd.CommandText = insert
            ? InsertSql(schema, indexed)
            : $"UPDATE \"{schema.Name}\" SET {string.Join(", ", names.Skip(1).Zip(values.Skip(1), (n, v) => $"{n} = {v}"))} WHERE id = $id";
        try
        {
            return await cmd.ExecuteNonQueryAsync(ct) > 0 ? StoreWriteOutcome.Ok : StoreWriteOutcome.NotFound;
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 19)
        {
            return e.Message.Contains($"{schema.Name}.id", StringComparison.Ordinal)
                ? StoreWriteOutcome.PrimaryKeyViolation : StoreWriteOutcome.UniqueViolation;
        }
    }


    private static string InsertSql(EntitySchema schema, IReadOnlyList<FieldDefinition> indexed)
    {
        var names = new[] { "id", "doc" }.Concat(indexed.Select(EntityColumns.Column)).Select(c => $"\"{c}\"");
        var values = new[] { "$id", "$doc" }.Concat(indexed.Select((_, i) => "$c" + i));
        return $"INSERT INTO \"{schema.Name}\" ({string.Join(", ", names)}) VALUES ({string.Join(", ", values)})";
    }

    private static string TagClause(SqliteCommand cmd, TagFilter tags)
    {
        var names = tags.Tags.Select((t, i) => { cmd.Parameters.AddWithValue("$tag" + i, t); return "$tag" + i; }).ToList();
        const string exists = "EXISTS (SELECT 1 FROM json_each(doc, '$.tags') WHERE value ";
        return tags.MatchAll
            ? string.Join(" AND ", names.Select(n => exists + "= " + n + ")"))
            : exists + "IN (" + string.Join(", ", names) + "))";
    }

    /// <summary>Ids are stored in Guid "D" form so that text order is stable across stores.</summary>
    private static string Key(Guid id) => id.ToString("D");

    private static async Task<JsonObject?> SelectOne(SqliteConnection conn, string sql, string value, CancellationToken ct)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.Parameters.AddWithValue("$v", value);
        var docs = await ReadDocs(cmd, ct);
        return docs.Count > 0 ? docs[0] : null;
    }

    private static async Task<List<JsonObject>> ReadDocs(SqliteCommand cmd, CancellationToken ct)
    {
        var list = new List<JsonObject>();
        using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) list.Add(JsonNode.Parse(reader.GetString(0))!.AsObject());
        return list;
    }

    private static async Task Exec(SqliteConnection conn, SqliteTransaction? tx, string sql, CancellationToken ct)
    {
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private async Task<T> Locked<T>(Func<SqliteConnection, Task<T>> action)
    {
        await _gate.WaitAsync();
        try
        {
            if (_onlyConnection) return await action(_keepAlive!);
            using var conn = new SqliteConnection(_connectionString);
            await conn.OpenAsync();
            return await action(conn);
        }
        finally
        {
            _gate.Release();
        }
    }
}
