using System.Text.Json.Nodes;
using Gatehouse.Hosting;
using Gatehouse.Entities;
using Gatehouse.Entities.Schemas;
using Gatehouse.Store;
using Gatehouse.Store.Postgres;
using Gatehouse.Store.Sqlite;
using Gatehouse.Tests.Store.Postgres;

namespace Gatehouse.Tests.Store;

/// <summary>The same contract checks against every <see cref="IEntityStore"/> flavour (SQLite file, DB-less memory,
/// PostgreSQL on a real server).</summary>
public sealed class EntityStoreContractTests : IDisposable
{
    private readonly TempDir _dir = new();

    public static TheoryData<string> Stores => ["file", "memory", "temporary", "postgres"];

    private async Task<IEntityStore> Create(string kind) => kind switch
    {
        "file" => SqliteEntityStore.ForFile(_dir.File("store.db"), GatehouseEntities.Default, TimeProvider.System),
        "memory" => SqliteEntityStore.InMemory(GatehouseEntities.Default, TimeProvider.System),
        "temporary" => SqliteEntityStore.Temporary(GatehouseEntities.Default, TimeProvider.System),
        _ => new PostgresEntityStore(new PostgresConnections(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync()),
            GatehouseEntities.Default, TimeProvider.System),
    };

    private static JsonObject Service(string name, params string[] tags)
    {
        var input = new JsonObject { ["id"] = Guid.NewGuid().ToString(), ["name"] = name, ["host"] = "h.test", ["created_at"] = 1, ["updated_at"] = 1 };
        if (tags.Length > 0) input["tags"] = new JsonArray([.. tags.Select(t => (JsonNode?)t)]);
        return EntityValidator.Validate(ServiceEntity.Schema, input, ValidationContext.Insert).Entity!;
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Crud_unique_tags_and_foreign_filter(string kind)
    {
        var store = await Create(kind);
        using var _ = (IDisposable)store;
        var ct = CancellationToken.None;
        // One table per entity; PostgreSQL also has rate-limiting's ratelimiting_metrics (SQLite creates it on first use).
        Assert.Equal(GatehouseEntities.Default.Schemas.Count + (kind == "postgres" ? 1 : 0), (await store.MigrateAsync(ct)).Count);
        Assert.Empty(await store.MigrateAsync(ct));

        var a = Service("a", "x", "y");
        var b = Service("b", "x");
        Assert.Equal(StoreWriteOutcome.Ok, await store.InsertAsync(ServiceEntity.Schema, a, ct));
        Assert.Equal(StoreWriteOutcome.Ok, await store.InsertAsync(ServiceEntity.Schema, b, ct));
        Assert.Equal(StoreWriteOutcome.UniqueViolation, await store.InsertAsync(ServiceEntity.Schema, Service("a"), ct));
        var sameId = Service("c");
        sameId["id"] = a["id"]!.DeepClone();
        Assert.Equal(StoreWriteOutcome.PrimaryKeyViolation, await store.InsertAsync(ServiceEntity.Schema, sameId, ct));

        var aId = EntityJson.Guid(a, "id");
        Assert.Equal("a", (await store.SelectByUniqueAsync(ServiceEntity.Schema, "name", "a", ct))!["name"]!.ToString());
        Assert.NotNull(await store.SelectAsync(ServiceEntity.Schema, aId, ct));

        var both = await store.PageAsync(ServiceEntity.Schema, new PageQuery(10, Tags: new TagFilter(["x", "y"], true)), ct);
        Assert.Equal("a", Assert.Single(both.Items)["name"]!.ToString());
        var any = await store.PageAsync(ServiceEntity.Schema, new PageQuery(10, Tags: new TagFilter(["y", "x"], false)), ct);
        Assert.Equal(2, any.Items.Count);

        var route = EntityValidator.Validate(RouteEntity.Schema, new JsonObject
        {
            ["id"] = Guid.NewGuid().ToString(), ["paths"] = new JsonArray("/"), ["service"] = new JsonObject { ["id"] = aId.ToString() },
            ["created_at"] = 1, ["updated_at"] = 1,
        }, ValidationContext.Insert).Entity!;
        Assert.Equal(StoreWriteOutcome.Ok, await store.InsertAsync(RouteEntity.Schema, route, ct));
        var scoped = await store.PageAsync(RouteEntity.Schema, new PageQuery(10, Foreign: new ForeignFilter("service", aId)), ct);
        Assert.Single(scoped.Items);
        Assert.Empty((await store.PageAsync(RouteEntity.Schema, new PageQuery(10, Foreign: new ForeignFilter("service", Guid.NewGuid())), ct)).Items);

        a["retries"] = 1;
        Assert.Equal(StoreWriteOutcome.Ok, await store.UpdateAsync(ServiceEntity.Schema, a, ct));
        Assert.Equal(1, (int)(await store.SelectAsync(ServiceEntity.Schema, aId, ct))!["retries"]!);
        Assert.True(await store.DeleteAsync(RouteEntity.Schema, EntityJson.Guid(route, "id"), ct));
        Assert.False(await store.DeleteAsync(RouteEntity.Schema, EntityJson.Guid(route, "id"), ct));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Replace_all_is_atomic(string kind)
    {
        var store = await Create(kind);
        using var _ = (IDisposable)store;
        var ct = CancellationToken.None;
        await store.MigrateAsync(ct);
        await store.InsertAsync(ServiceEntity.Schema, Service("old"), ct);

        var dup = Service("n1");
        var conflicting = new Dictionary<EntitySchema, IReadOnlyList<JsonObject>> { [ServiceEntity.Schema] = [dup, dup] };
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.ReplaceAllAsync(conflicting, ct));
        Assert.Equal("old", Assert.Single(await store.ListAllAsync(ServiceEntity.Schema, ct))["name"]!.ToString());

        var good = new Dictionary<EntitySchema, IReadOnlyList<JsonObject>> { [ServiceEntity.Schema] = [Service("n1"), Service("n2")] };
        await store.ReplaceAllAsync(good, ct);
        Assert.Equal(["n1", "n2"], (await store.ListAllAsync(ServiceEntity.Schema, ct)).Select(s => s["name"]!.ToString()).Order());
    }

    /// <summary>A declarative load hands its rows as text (<see cref="JsonTextRows"/>): stored without a parse, they are
    /// found as rows given as trees are (by unique field, by foreign key, by tags), read back equal, and a conflict among
    /// them still leaves what was there.</summary>
    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Replace_all_with_text_rows_stores_what_trees_store(string kind)
    {
        var store = await Create(kind);
        using var _ = (IDisposable)store;
        var ct = CancellationToken.None;
        await store.MigrateAsync(ct);
        await store.InsertAsync(ServiceEntity.Schema, Service("old"), ct);
        var dup = Service("n1");
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.ReplaceAllAsync(
            new Dictionary<EntitySchema, IReadOnlyList<JsonObject>> { [ServiceEntity.Schema] = JsonTextRows.Of([dup, dup]) }, ct));
        Assert.Equal("old", Assert.Single(await store.ListAllAsync(ServiceEntity.Schema, ct))["name"]!.ToString());

        var a = Service("a-é", "x", "y");
        var b = Service("b", "x");
        var aId = EntityJson.Guid(a, "id");
        var route = EntityValidator.Validate(RouteEntity.Schema, new JsonObject
        {
            ["id"] = Guid.NewGuid().ToString(), ["name"] = "r1", ["paths"] = new JsonArray("/"),
            ["service"] = new JsonObject { ["id"] = aId.ToString() }, ["created_at"] = 1, ["updated_at"] = 1,
        }, ValidationContext.Insert).Entity!;
        var unbound = EntityValidator.Validate(RouteEntity.Schema, new JsonObject
        {
            ["id"] = Guid.NewGuid().ToString(), ["paths"] = new JsonArray("/u"), ["created_at"] = 1, ["updated_at"] = 1,
        }, ValidationContext.Insert).Entity!;
        await store.ReplaceAllAsync(new Dictionary<EntitySchema, IReadOnlyList<JsonObject>>
        {
            [ServiceEntity.Schema] = JsonTextRows.Of([a, b]),
            [RouteEntity.Schema] = JsonTextRows.Of([route, unbound]),
        }, ct);

        Assert.Equal(["a-é", "b"], (await store.ListAllAsync(ServiceEntity.Schema, ct)).Select(s => s["name"]!.ToString()).Order());
        Assert.True(JsonNode.DeepEquals(a, await store.SelectByUniqueAsync(ServiceEntity.Schema, "name", "a-é", ct)));
        Assert.True(JsonNode.DeepEquals(route, await store.SelectByUniqueAsync(RouteEntity.Schema, "name", "r1", ct)));
        var scoped = await store.PageAsync(RouteEntity.Schema, new PageQuery(10, Foreign: new ForeignFilter("service", aId)), ct);
        Assert.Equal("r1", Assert.Single(scoped.Items)["name"]!.ToString());
        var both = await store.PageAsync(ServiceEntity.Schema, new PageQuery(10, Tags: new TagFilter(["x", "y"], true)), ct);
        Assert.Equal(aId, EntityJson.Guid(Assert.Single(both.Items), "id"));
        Assert.Equal(StoreWriteOutcome.UniqueViolation, await store.InsertAsync(ServiceEntity.Schema, Service("b"), ct));
    }

    /// <summary>DB-less mode stores its rows in a temporary database (pages beyond a small cache in a file SQLite deleted
    /// as it opened it), not in memory: 100,000 routes' rows were ~85 MB of a gateway's RSS in a memory database.</summary>
    [Fact]
    public async Task Db_less_mode_stores_in_a_temporary_database_of_its_own()
    {
        var options = new Gatehouse.Config.GatehouseOptions { Database = Gatehouse.Config.DatabaseKind.Off };
        using var first = (SqliteEntityStore)StoreServiceCollectionExtensions.CreateStore(options, GatehouseEntities.Default, TimeProvider.System);
        using var second = (SqliteEntityStore)StoreServiceCollectionExtensions.CreateStore(options, GatehouseEntities.Default, TimeProvider.System);
        Assert.Equal("", first.DataSource);
        await first.MigrateAsync(default);
        await second.MigrateAsync(default);
        await first.InsertAsync(ServiceEntity.Schema, Service("only-in-first"), default);
        Assert.Single(await first.ListAllAsync(ServiceEntity.Schema, default));
        Assert.Empty(await second.ListAllAsync(ServiceEntity.Schema, default)); // each its own database
    }

    public void Dispose() => _dir.Dispose();
}
