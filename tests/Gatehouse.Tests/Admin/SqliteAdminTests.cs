using Gatehouse.Tests.Store;

namespace Gatehouse.Tests.Admin;

/// <summary>Base for Admin API tests against a fresh SQLite file: one real admin host per test, torn down after.</summary>
public abstract class SqliteAdminTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();

    /// <summary>The running admin host (real Kestrel on 127.0.0.1:0 over the SQLite store).</summary>
    private protected AdminTestHost _host = null!;

    public async Task InitializeAsync() => _host = await AdminTestHost.StartSqliteAsync(_dir.File("gh.db"));

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _dir.Dispose();
    }
}
