using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Entities.Schemas;
using Gatehouse.Model;
using Gatehouse.Store;
using Gatehouse.Store.Postgres;
using Gatehouse.Store.Sqlite;
using Gatehouse.Tests.Store.Postgres;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Tests.Store;

/// <summary>
/// A new entity defined only by its schema gets storage, constraints and cascades from the generic DAO:
/// here a "widgets" entity that cascades with its service and carries free-form JSON.
/// </summary>
public sealed class EntityDaoGenericTests : IDisposable
{
    private static readonly EntitySchema Widgets = new()
    {
        Name = "widgets",
        SingularName = "widget",
        Fields =
        [
            Typedefs.Id(), Typedefs.AutoTimestamp("created_at"), Typedefs.AutoTimestamp("updated_at"), Typedefs.Utf8Name(),
            Typedefs.Foreign("service", "services", OnDelete.Cascade) with { Required = true },
            new FieldDefinition("config", FieldType.Json),
        ],
    };

    private readonly TempDir _dir = new();

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Cascade_unique_and_foreign_checks_for_a_new_entity(string kind)
    {
        var registry = new EntityRegistry([ServiceEntity.Schema, RouteEntity.Schema, Widgets]);
        var store = kind == "sqlite"
            ? (IEntityStore)SqliteEntityStore.ForFile(_dir.File("w.db"), registry, TimeProvider.System)
            : new PostgresEntityStore(new PostgresConnections(await PostgresTestDatabase.FreshSchemaAsync()), registry, TimeProvider.System);
        using var disposeStore = (IDisposable)store;
        await store.MigrateAsync(CancellationToken.None);
        var publisher = new GatewayConfigPublisher();
        var dao = new EntityDao(store, registry, new StoreConfigPublisher(store, registry, publisher, NullLogger<StoreConfigPublisher>.Instance),
            TimeProvider.System, readOnly: false);
        var ct = CancellationToken.None;

        var service = (await dao.InsertAsync(ServiceEntity.Schema, new JsonObject { ["name"] = "s", ["host"] = "s.test" }, ct)).Entity!;
        var sid = service["id"]!.ToString();
        var widget = await dao.InsertAsync(Widgets, new JsonObject
        {
            ["name"] = "w", ["service"] = new JsonObject { ["id"] = sid }, ["config"] = new JsonObject { ["deep"] = new JsonArray(1, "two") },
        }, ct);
        Assert.Null(widget.Error);
        Assert.Equal("""{"deep":[1,"two"]}""", widget.Entity!["config"]!.ToJsonString());

        var dup = await dao.InsertAsync(Widgets, new JsonObject { ["name"] = "w", ["service"] = new JsonObject { ["id"] = sid } }, ct);
        Assert.Equal(DbErrorCode.UniqueViolation, dup.Error!.Code);
        var orphan = await dao.InsertAsync(Widgets, new JsonObject { ["service"] = new JsonObject { ["id"] = Guid.NewGuid().ToString() } }, ct);
        Assert.Equal(DbErrorCode.ForeignKeyViolation, orphan.Error!.Code);
        var missing = await dao.InsertAsync(Widgets, new JsonObject { ["name"] = "x" }, ct);
        Assert.Equal("required field missing", missing.Error!.Fields!["service"]!.ToString());

        Assert.Null((await dao.DeleteAsync(ServiceEntity.Schema, "s", ct)).Error);
        Assert.Empty(await store.ListAllAsync(Widgets, ct));
        Assert.Empty(publisher.Current.Services);
    }

    public void Dispose() => _dir.Dispose();
}
