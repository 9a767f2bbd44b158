using Gatehouse.Config;
using Gatehouse.Tests.Admin;

namespace Gatehouse.Tests.Store;

public sealed class StoreStartupTests
{
    [Fact]
    public async Task Bad_declarative_file_stops_the_start_with_readable_errors()
    {
        using var dir = new TempDir();
        var file = dir.File("kong.yml");
        await File.WriteAllTextAsync(file, "_format_version: \"3.0\"\nservices:\n  - name: s\n    port: 70000\n");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            AdminTestHost.StartAsync(new GatehouseOptions { Database = DatabaseKind.Off, DeclarativeConfig = file }));
        Assert.Contains("port: value should be between 0 and 65535", error.Message);
        Assert.Contains("host: required field missing", error.Message);
    }

    [Fact]
    public async Task Sqlite_start_migrates_and_publishes_an_empty_first_config()
    {
        using var dir = new TempDir();
        var db = dir.File("sub/gh.db");
        await using var host = await AdminTestHost.StartSqliteAsync(db);
        Assert.True(File.Exists(db));
        Assert.Equal(1, host.Publisher.Current.Version);
        Assert.Empty(host.Publisher.Current.Services);
    }

    [Fact]
    public async Task Postgres_without_a_reachable_server_stops_the_start_naming_it()
    {
        var port = Infrastructure.EchoUpstream.ClosedPort();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            AdminTestHost.StartAsync(new GatehouseOptions { Database = DatabaseKind.Postgres, Postgres = new PostgresOptions { Port = port } }));
        Assert.StartsWith($"cannot use the PostgreSQL server at 127.0.0.1:{port}/kong", error.Message);
    }
}
