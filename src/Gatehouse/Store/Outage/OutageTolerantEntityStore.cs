using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Store.Outage;

/// <summary>
/// The shared database's store as the node uses it, knowing whether the database is reachable. Every call goes to
/// the database, except reads of an Admin API request that allows the snapshot (<see cref="BeginRequest"/>, GET/HEAD)
/// while the database is known to be unreachable or fails: those are answered from the last published rows
/// (<see cref="ConfigSnapshot"/>) and the request is told so. A failure to reach the database marks it unreachable until
/// <see cref="DatabaseMonitor"/> has re-published from it.
/// </summary>
public sealed partial class OutageTolerantEntityStore : IEntityStore, IAsyncDisposable
{
    private readonly IEntityStore _database;
    private readonly ConfigSnapshot _snapshot;
    private readonly ILogger<OutageTolerantEntityStore> _logger;
    private readonly AsyncLocal<RequestReads?> _request = new();
    private readonly SemaphoreSlim _unreachableSignal = new(0, 1);
    private int _unreachable; // 1 from a failure to reach the database until the monitor has re-published from it

    public OutageTolerantEntityStore(IEntityStore database, ConfigSnapshot snapshot, ILogger<OutageTolerantEntityStore> logger)
    {
        _database = database ?? throw new ArgumentNullException(nameof(database));
        _snapshot = snapshot ?? throw new ArgumentNullException(nameof(snapshot));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>False from a failure to reach the database until the node has re-published from it.</summary>
    public bool Reachable => Volatile.Read(ref _unreachable) == 0;

    public IEntityStore Database => _database;

    /// <summary>Tracks where the reads of one Admin API request come from, until disposed. Only a request that changes
    /// nothing may be answered from the snapshot: a write's checks must see the database.</summary>
    public RequestReads BeginRequest(bool allowSnapshot)
    {
        var reads = new RequestReads(allowSnapshot, _request);
        _request.Value = reads;
        return reads;
    }

    /// <summary>A real query of the database (for <c>/status</c>); false when it cannot be reached.</summary>
    public async Task<bool> ProbeAsync(EntitySchema schema, CancellationToken ct)
    {
        try
        {
            await _database.PageAsync(schema, new PageQuery(1), ct);
            return true;
        }
        catch (DatabaseUnavailableException e)
        {
            MarkUnreachable(e);
            return false;
        }
    }

    /// <summary>Records that the database cannot be reached (the monitor probes it until it returns).</summary>
    public void MarkUnreachable(DatabaseUnavailableException e)
    {
        if (Interlocked.Exchange(ref _unreachable, 1) == 1) return;
        LogUnreachable(e.Database, e.Reason, _snapshot.PublishedAt?.ToString("O") ?? "never");
        if (_unreachableSignal.CurrentCount == 0) try { _unreachableSignal.Release(); } catch (SemaphoreFullException) { }
    }

    /// <summary>Called by the monitor once the node has re-published from the database.</summary>
    internal void MarkReachable() => Volatile.Write(ref _unreachable, 0);

    /// <summary>Completes when the database has been found unreachable (or at once if it is).</summary>
    internal async Task WaitUnreachableAsync(TimeSpan timeout, CancellationToken ct)
    {
        if (!Reachable) return;
        await _unreachableSignal.WaitAsync(timeout, ct);
    }

    public Task<IReadOnlyList<string>> MigrateAsync(CancellationToken ct) => Write(s => s.MigrateAsync(ct));

    public IReadOnlyList<string> Migrations => _database.Migrations;

    /// <summary>A reload's consistent read: always the database (the snapshot is what it refreshes).</summary>
    public Task<IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>>> SnapshotAsync(IEnumerable<EntitySchema> schemas, CancellationToken ct) =>
        Write(s => s.SnapshotAsync(schemas, ct));

    /// <summary>The DAO's reads inside a write: on the primary server (never the replica, never the snapshot), a
    /// failure to reach it marking the database unreachable as any other call does.</summary>
    public IEntityStore Primary => ReferenceEquals(_database.Primary, _database) ? this : _primaryView ??= new PrimaryView(this);

    private PrimaryView? _primaryView;

    private sealed class PrimaryView(OutageTolerantEntityStore outer) : IEntityStore
    {
        private IEntityStore Db => outer._database.Primary;
        public IReadOnlyList<string> Migrations => Db.Migrations;
        public Task<IReadOnlyList<string>> MigrateAsync(CancellationToken ct) => outer.Write(_ => Db.MigrateAsync(ct));
        public Task<IReadOnlyList<ExecutedMigration>?> ExecutedMigrationsAsync(CancellationToken ct) => outer.Write(_ => Db.ExecutedMigrationsAsync(ct));
        public Task ResetAsync(CancellationToken ct) => outer.Write(async _ => { await Db.ResetAsync(ct); return true; });
        public Task<JsonObject?> SelectAsync(EntitySchema schema, Guid id, CancellationToken ct) => outer.Write(_ => Db.SelectAsync(schema, id, ct));
        public Task<JsonObject?> SelectByUniqueAsync(EntitySchema schema, string field, string value, CancellationToken ct) =>
            outer.Write(_ => Db.SelectByUniqueAsync(schema, field, value, ct));
        public Task<EntityPage> PageAsync(EntitySchema schema, PageQuery query, CancellationToken ct) => outer.Write(_ => Db.PageAsync(schema, query, ct));
        public Task<IReadOnlyList<JsonObject>> ListAllAsync(EntitySchema schema, CancellationToken ct) => outer.Write(_ => Db.ListAllAsync(schema, ct));
        public Task<StoreWriteOutcome> InsertAsync(EntitySchema schema, JsonObject entity, CancellationToken ct) => outer.Write(_ => Db.InsertAsync(schema, entity, ct));
        public Task<StoreWriteOutcome> UpdateAsync(EntitySchema schema, JsonObject entity, CancellationToken ct) => outer.Write(_ => Db.UpdateAsync(schema, entity, ct));
        public Task<bool> DeleteAsync(EntitySchema schema, Guid id, CancellationToken ct) => outer.Write(_ => Db.DeleteAsync(schema, id, ct));
        public Task<IAsyncDisposable> LockWritesAsync(CancellationToken ct) => outer.Write(_ => Db.LockWritesAsync(ct));
        public Task ReplaceAllAsync(IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> entities, CancellationToken ct) =>
            outer.Write(async _ => { await Db.ReplaceAllAsync(entities, ct); return true; });
    }

    public Task<IReadOnlyList<ExecutedMigration>?> ExecutedMigrationsAsync(CancellationToken ct) => Write(s => s.ExecutedMigrationsAsync(ct));

    public Task ResetAsync(CancellationToken ct) => Write(async s => { await s.ResetAsync(ct); return true; });

    public Task<JsonObject?> SelectAsync(EntitySchema schema, Guid id, CancellationToken ct) => Read(s => s.SelectAsync(schema, id, ct), ct);

    public Task<JsonObject?> SelectByUniqueAsync(EntitySchema schema, string field, string value, CancellationToken ct) =>
        Read(s => s.SelectByUniqueAsync(schema, field, value, ct), ct);

    public Task<EntityPage> PageAsync(EntitySchema schema, PageQuery query, CancellationToken ct) => Read(s => s.PageAsync(schema, query, ct), ct);

    public Task<IReadOnlyList<JsonObject>> ListAllAsync(EntitySchema schema, CancellationToken ct) => Read(s => s.ListAllAsync(schema, ct), ct);

    public Task<StoreWriteOutcome> InsertAsync(EntitySchema schema, JsonObject entity, CancellationToken ct) => Write(s => s.InsertAsync(schema, entity, ct));

    public Task<StoreWriteOutcome> UpdateAsync(EntitySchema schema, JsonObject entity, CancellationToken ct) => Write(s => s.UpdateAsync(schema, entity, ct));

    public Task<bool> DeleteAsync(EntitySchema schema, Guid id, CancellationToken ct) => Write(s => s.DeleteAsync(schema, id, ct));

    public Task<IAsyncDisposable> LockWritesAsync(CancellationToken ct) => Write(s => s.LockWritesAsync(ct));

    public Task ReplaceAllAsync(IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> entities, CancellationToken ct) =>
        Write(async s => { await s.ReplaceAllAsync(entities, ct); return true; });

    private async Task<T> Read<T>(Func<IEntityStore, Task<T>> read, CancellationToken ct)
    {
        var request = _request.Value;
        if (request is { AllowSnapshot: true } && !Reachable && await _snapshot.StoreAsync(ct) is { } known)
        {
            request.FromSnapshot = true;
            return await read(known);
        }
        try
        {
            return await read(_database);
        }
        catch (DatabaseUnavailableException e)
        {
            MarkUnreachable(e);
            if (request is not { AllowSnapshot: true } || await _snapshot.StoreAsync(ct) is not { } snapshot) throw;
            request.FromSnapshot = true;
            return await read(snapshot);
        }
    }

    private async Task<T> Write<T>(Func<IEntityStore, Task<T>> write)
    {
        try
        {
            return await write(_database);
        }
        catch (DatabaseUnavailableException e)
        {
            MarkUnreachable(e);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_database is IAsyncDisposable d) await d.DisposeAsync();
        _unreachableSignal.Dispose();
    }

    /// <summary>The reads of one Admin API request: whether any came from the snapshot.</summary>
    public sealed class RequestReads : IDisposable
    {
        private readonly AsyncLocal<RequestReads?> _slot;

        internal RequestReads(bool allowSnapshot, AsyncLocal<RequestReads?> slot)
        {
            AllowSnapshot = allowSnapshot;
            _slot = slot;
        }

        public bool AllowSnapshot { get; }
        public bool FromSnapshot { get; internal set; }

        public void Dispose() => _slot.Value = null;
    }

    [LoggerMessage(EventId = 2102, Level = LogLevel.Error,
        Message = "{Database} is unreachable ({Reason}): proxying continues on the last published configuration (read from the database at {PublishedAt}), Admin API reads are served from that snapshot and writes are refused until it returns")]
    private partial void LogUnreachable(string database, string reason, string publishedAt);
}
