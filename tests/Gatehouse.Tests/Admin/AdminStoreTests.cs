using Gatehouse.Config;
using Gatehouse.Tests.Store;
using Gatehouse.Tests.Store.Postgres;

namespace Gatehouse.Tests.Admin;

/// <summary>The store an Admin API test class runs on.</summary>
public enum AdminStore { Sqlite, Postgres }

/// <summary>
/// Base for Admin API tests against a fresh store: one real admin host per test, torn down after. SQLite by
/// default; a one-line subclass overriding <see cref="Store"/> runs every test of the class on PostgreSQL too
/// (the contract is the same for both stores).
/// </summary>
public abstract class AdminStoreTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();

    /// <summary>The running admin host (real Kestrel on 127.0.0.1:0 over the store).</summary>
    private protected AdminTestHost _host = null!;

    private protected virtual AdminStore Store => AdminStore.Sqlite;

    public virtual async Task InitializeAsync() => _host = await AdminTestHost.StartOnAsync(Store, _dir);

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _dir.Dispose();
    }
}

/// <summary>For gateway helpers that take a <c>configure</c> callback: the options change that puts a gateway on a
/// fresh store of that kind (SQLite: the helper's own file, unchanged).</summary>
internal static class AdminStores
{
    public static async Task<Func<GatehouseOptions, GatehouseOptions>> ConfigureAsync(AdminStore store)
    {
        if (store == AdminStore.Sqlite) return o => o;
        var postgres = await PostgresTestDatabase.FreshSchemaAsync();
        return o => o with { Database = DatabaseKind.Postgres, Postgres = postgres };
    }
}
