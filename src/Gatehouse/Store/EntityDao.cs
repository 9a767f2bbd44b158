using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Store;

/// <summary>
/// Generic entity operations (Kong's DAO): auto fields, validation, primary/unique/foreign key constraints,
/// cascading deletes, then a new published configuration. Writes are serialized so a constraint check and
/// its write cannot interleave with another change. In DB-less mode every write is refused.
/// </summary>
public sealed class EntityDao
{
    private readonly IEntityStore _store;
    /// <summary>The store with reads on the primary: every read inside a write (a stale replica must not break constraints).</summary>
    private readonly IEntityStore _writes;
    private readonly EntityRegistry _registry;
    private readonly StoreConfigPublisher _publisher;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly ChildNames _childNames;

    public EntityDao(IEntityStore store, EntityRegistry registry, StoreConfigPublisher publisher, TimeProvider time, bool readOnly)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _writes = store.Primary;
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
        _publisher = publisher ?? throw new ArgumentNullException(nameof(publisher));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        ReadOnly = readOnly;
        _childNames = new ChildNames(registry, time);
    }

    /// <summary>True in DB-less mode: the configuration only changes through POST /config.</summary>
    public bool ReadOnly { get; }
    public IEntityStore Store => _store;
    public EntityRegistry Registry => _registry;

    /// <summary>Finds by id, or by the endpoint key when <paramref name="key"/> is not a UUID.</summary>
    public Task<JsonObject?> SelectAsync(EntitySchema schema, string key, CancellationToken ct) => Find(_store, schema, key, ct);

    private Task<JsonObject?> Find(IEntityStore store, EntitySchema schema, string key, CancellationToken ct) =>
        Guid.TryParse(key, out var id) ? store.SelectAsync(schema, id, ct)
        : schema.EndpointKey is { } ek ? store.SelectByUniqueAsync(schema, ek, key, ct)
        : schema.ChildNames is not null ? _childNames.FindParentAsync(store, schema, key, ct)
        : Task.FromResult<JsonObject?>(null);

    /// <summary>Adds what Kong's DAO shows beside the stored fields (a certificate's <c>snis</c>) to a row read for a client.</summary>
    public Task ShowAsync(EntitySchema schema, JsonObject row, CancellationToken ct) => _childNames.ShowAsync(_store, schema, row, ct);

    public Task<DaoResult> InsertAsync(EntitySchema schema, JsonObject input, CancellationToken ct) =>
        Write(schema, "create", async () =>
        {
            var data = Clone(input);
            data["id"] ??= Guid.NewGuid().ToString();
            var now = _time.GetUtcNow();
            data["created_at"] ??= AutoTimestamp.For(schema, "created_at", now);
            data["updated_at"] = AutoTimestamp.For(schema, "updated_at", now); // Kong: a given created_at is kept on insert, updated_at is always the write's time
            if (await ForeignKeyResolver.ResolveAsync(_writes, _registry, schema, data, ct) is { } unresolved) return DaoResult.Fail(unresolved);
            var validated = EntityValidator.Validate(schema, data, ValidationContext.Insert);
            if (!validated.IsValid) return DaoResult.Fail(DbError.SchemaViolation(validated.Errors!));
            var entity = schema.BeforeWrite is { } transform ? transform(validated.Entity!, input) : validated.Entity!;
            var names = ChildNames.Detach(schema, entity, input) ?? (schema.ChildNames is null ? null : []);
            var id = EntityJson.Guid(entity, "id");
            if (await _writes.SelectAsync(schema, id, ct) is not null) return DaoResult.Fail(DbError.PrimaryKeyViolation(id));
            if (await CheckConstraints(schema, entity, id, names, ct) is { } error) return DaoResult.Fail(error);
            return await Finish(await _writes.InsertAsync(schema, entity, ct), schema, entity, id, names, ct);
        }, ct);

    /// <summary>PUT: creates or fully replaces the entity addressed by id or endpoint key.</summary>
    public Task<DaoResult> UpsertAsync(EntitySchema schema, string key, JsonObject input, CancellationToken ct) =>
        Write(schema, "create", async () =>
        {
            var existing = await Find(_writes, schema, key, ct);
            var data = Clone(input);
            if (Guid.TryParse(key, out var keyId)) data["id"] = keyId.ToString();
            else if (schema.ChildNames is not null)
            {
                // Kong's PUT /certificates/{sni}: the certificate of that SNI, or a new one listing it
                data["id"] = existing?["id"]?.DeepClone() ?? Guid.NewGuid().ToString();
                ChildNames.Include(schema, data, key);
            }
            else if (schema.EndpointKey is { } ek)
            {
                data[ek] = key;
                if (existing is not null) data["id"] = existing["id"]!.DeepClone();
                else data["id"] ??= Guid.NewGuid().ToString();
            }
            var now = _time.GetUtcNow();
            if (existing?["created_at"] is { } created) data["created_at"] = created.DeepClone();
            else data["created_at"] ??= AutoTimestamp.For(schema, "created_at", now);
            data["updated_at"] = AutoTimestamp.For(schema, "updated_at", now);
            if (await ForeignKeyResolver.ResolveAsync(_writes, _registry, schema, data, ct) is { } unresolved) return DaoResult.Fail(unresolved);
            var validated = EntityValidator.Validate(schema, data, ValidationContext.Upsert);
            if (!validated.IsValid) return DaoResult.Fail(DbError.SchemaViolation(validated.Errors!));
            var entity = schema.BeforeWrite is { } transform ? transform(validated.Entity!, input) : validated.Entity!;
            // PUT replaces: no list means no children (Kong's Admin API sends null)
            var names = ChildNames.Detach(schema, entity, input) ?? (schema.ChildNames is null ? null : []);
            var id = EntityJson.Guid(entity, "id");
            if (await CheckConstraints(schema, entity, id, names, ct) is { } error) return DaoResult.Fail(error);
            var exists = existing is not null || await _writes.SelectAsync(schema, id, ct) is not null;
            var outcome = exists ? await _writes.UpdateAsync(schema, entity, ct) : await _writes.InsertAsync(schema, entity, ct);
            return await Finish(outcome, schema, entity, id, names, ct);
        }, ct);

    /// <summary>PATCH: top-level fields of the input replace the stored ones (arrays wholesale).</summary>
    public Task<DaoResult> UpdateAsync(EntitySchema schema, string key, JsonObject input, CancellationToken ct) =>
        Write(schema, "update", async () =>
        {
            var existing = await Find(_writes, schema, key, ct);
            if (existing is null) return DaoResult.Fail(new DbError(DbErrorCode.NotFound, "not found"));
            var data = Clone(existing);
            foreach (var (k, v) in input) data[k] = RecordMerge.Merge(schema.Field(k), data, data[k], v); // records merge, as Kong
            data["id"] = existing["id"]?.DeepClone();
            data["updated_at"] = AutoTimestamp.NotBefore(schema, "updated_at", _time.GetUtcNow(), existing["updated_at"]);
            if (await ForeignKeyResolver.ResolveAsync(_writes, _registry, schema, data, ct) is { } unresolved) return DaoResult.Fail(unresolved);
            var validated = EntityValidator.Validate(schema, data, ValidationContext.Update);
            if (!validated.IsValid) return DaoResult.Fail(DbError.SchemaViolation(validated.Errors!));
            var entity = schema.BeforeWrite is { } transform ? transform(validated.Entity!, input) : validated.Entity!;
            var names = ChildNames.Detach(schema, entity, input);
            var id = EntityJson.Guid(entity, "id");
            if (await CheckConstraints(schema, entity, id, names, ct) is { } error) return DaoResult.Fail(error);
            return await Finish(await _writes.UpdateAsync(schema, entity, ct), schema, entity, id, names, ct);
        }, ct);

    /// <summary>DELETE: succeeds when missing; refuses while restricting references exist; cascades otherwise.</summary>
    public Task<DaoResult> DeleteAsync(EntitySchema schema, string key, CancellationToken ct) =>
        Write(schema, "delete", async () =>
        {
            var existing = await Find(_writes, schema, key, ct);
            if (existing is null) return DaoResult.Ok(null);
            var id = EntityJson.Guid(existing, "id");
            foreach (var (child, field) in _registry.ReferencesTo(schema).Where(r => r.Field.OnDelete == OnDelete.Restrict))
                if ((await _writes.PageAsync(child, new PageQuery(1, Foreign: new ForeignFilter(field.Name, id)), ct)).Items.Count > 0)
                    return DaoResult.Fail(DbError.ReferencedBy(child.Name, schema.Name));
            if (await ArrayReference(schema, id, ct) is { } referenced) return DaoResult.Fail(referenced);
            await DeleteCascading(schema, id, ct);
            return DaoResult.Ok(existing);
        }, ct);

    /// <summary>
    /// Kong's <c>config db_import</c>: creates or replaces each entity by primary key, parents first, keeping what is
    /// already stored and not in <paramref name="entities"/> (an import adds, it does not wipe). The entities are the
    /// declarative loader's (validated, transformed); unique, cache-key and foreign-key constraints are checked against
    /// the database. Stops at the first conflict, leaving what was written before it (as Kong's import). One new
    /// configuration is published at the end.
    /// </summary>
    public Task<DaoResult> ImportAsync(IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> entities, CancellationToken ct) =>
        Write(_registry.Schemas[0], "create", async () =>
        {
            var written = 0;
            foreach (var schema in _registry.Schemas.Where(entities.ContainsKey))
                foreach (var entity in entities[schema])
                {
                    var id = EntityJson.Guid(entity, "id");
                    var error = await CheckConstraints(schema, entity, id, ct);
                    if (error is null)
                    {
                        var outcome = await _writes.SelectAsync(schema, id, ct) is not null
                            ? await _writes.UpdateAsync(schema, entity, ct) : await _writes.InsertAsync(schema, entity, ct);
                        if (outcome != StoreWriteOutcome.Ok) error = Outcome(outcome, schema, entity, id).Error;
                    }
                    // name the entity that could not be written: the file may hold many of its kind
                    if (error is not null) return DaoResult.Fail(error with { Message = $"{schema.Name} {id}: {error.Message}" });
                    written++;
                }
            return DaoResult.Ok(new JsonObject { ["imported"] = written });
        }, ct);

    /// <summary>Kong's check before deleting a CA certificate: the first row whose id array names it, as
    /// "ca certificate &lt;id&gt; is still referenced by services (id = &lt;id&gt;)".</summary>
    private async Task<DbError?> ArrayReference(EntitySchema schema, Guid id, CancellationToken ct)
    {
        var text = id.ToString();
        foreach (var (child, field) in _registry.ArrayReferencesTo(schema))
            foreach (var row in (await _writes.PageAsync(child, new PageQuery(int.MaxValue - 1), ct)).Items)
                if (row[field.Name] is System.Text.Json.Nodes.JsonArray ids && ids.Any(e => string.Equals((string?)e, text, StringComparison.OrdinalIgnoreCase)))
                    return DbError.ReferencedByOthers(
                        $"{schema.Name.TrimEnd('s').Replace('_', ' ')} {text} is still referenced by {child.Name} (id = {EntityJson.Guid(row, "id")})");
        return null;
    }

    private async Task DeleteCascading(EntitySchema schema, Guid id, CancellationToken ct)
    {
        foreach (var (child, field) in _registry.ReferencesTo(schema).Where(r => r.Field.OnDelete == OnDelete.Cascade))
            foreach (var row in (await _writes.PageAsync(child, new PageQuery(int.MaxValue - 1, Foreign: new ForeignFilter(field.Name, id)), ct)).Items)
                await DeleteCascading(child, EntityJson.Guid(row, "id"), ct);
        await _writes.DeleteAsync(schema, id, ct);
    }

    private async Task<DbError?> CheckConstraints(EntitySchema schema, JsonObject entity, Guid id, IReadOnlyList<string>? names, CancellationToken ct) =>
        await _childNames.CheckAsync(_writes, schema, names, id, ct) ?? await CheckConstraints(schema, entity, id, ct);

    /// <summary>The write's result; on success the parent's children follow its transient name list.</summary>
    private async Task<DaoResult> Finish(StoreWriteOutcome outcome, EntitySchema schema, JsonObject entity, Guid id,
        IReadOnlyList<string>? names, CancellationToken ct)
    {
        var result = Outcome(outcome, schema, entity, id);
        if (result.Error is not null || schema.ChildNames is null) return result;
        return await _childNames.SyncAsync(_writes, schema, entity, names, ct) is { } error ? DaoResult.Fail(error) : result;
    }

    private async Task<DbError?> CheckConstraints(EntitySchema schema, JsonObject entity, Guid id, CancellationToken ct)
    {
        foreach (var field in schema.UniqueFields)
        {
            if (EntityJson.String(entity, field.Name) is not { } value) continue;
            var other = await _writes.SelectByUniqueAsync(schema, field.Name, value, ct);
            if (other is not null && EntityJson.Guid(other, "id") != id) return DbError.UniqueViolation(field.Name, entity[field.Name]);
        }
        if (await CacheKeyConstraint.FindConflictAsync(_writes, schema, entity, id, ct) is { } conflict) return conflict;
        foreach (var field in schema.ForeignFields)
        {
            if (EntityJson.ForeignId(entity, field.Name) is not { } fid) continue;
            if (_registry.ByName(field.Reference!) is not { } target) continue; // entity not implemented yet
            if (await _writes.SelectAsync(target, fid, ct) is null) return DbError.ForeignKeyViolation(field.Name, fid, target.Name);
        }
        return null;
    }

    private static DaoResult Outcome(StoreWriteOutcome outcome, EntitySchema schema, JsonObject entity, Guid id)
    {
        switch (outcome)
        {
            case StoreWriteOutcome.Ok:
                return DaoResult.Ok(entity);
            case StoreWriteOutcome.PrimaryKeyViolation:
                return DaoResult.Fail(DbError.PrimaryKeyViolation(id));
            case StoreWriteOutcome.NotFound:
                return DaoResult.Fail(new DbError(DbErrorCode.NotFound, "not found"));
            default:
                var field = schema.UniqueFields.FirstOrDefault(f => entity[f.Name] is not null)?.Name ?? "id";
                return DaoResult.Fail(DbError.UniqueViolation(field, entity[field]));
        }
    }

    private async Task<DaoResult> Write(EntitySchema schema, string verb, Func<Task<DaoResult>> action, CancellationToken ct)
    {
        if (ReadOnly) return DaoResult.Fail(DbError.OperationUnsupported(verb, schema.Name));
        await _writeGate.WaitAsync(ct);
        try
        {
            DaoResult result;
            await using (await _store.LockWritesAsync(ct)) result = await action();
            // published (and announced to the other nodes) once the cluster-wide lock is released: a full reload
            // must not hold up every node's writes
            if (result is { Error: null, Entity: not null }) await _publisher.PublishAsync(CancellationToken.None);
            return result;
        }
        finally { _writeGate.Release(); }
    }


    private static JsonObject Clone(JsonObject o) => o.DeepClone().AsObject();
}
