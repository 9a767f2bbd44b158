using Gatehouse.Tests.Store.Postgres;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Gatehouse.Tests.Cli;

/// <summary>A fresh empty database of one kind ("sqlite": a file; "postgres": a database on the shared test server),
/// a gatehouse.conf that points at it, and raw SQL on it (to play an older or a newer Gatehouse).</summary>
internal sealed class MigrationDatabase
{
    public static TheoryData<string> Kinds => ["sqlite", "postgres"];

    private readonly Func<string, Task> _exec;

    private MigrationDatabase(string conf, string confLines, Func<string, Task> exec)
    {
        ConfPath = conf;
        ConfLines = confLines;
        _exec = exec;
    }

    /// <summary>A conf file with a private prefix and this database.</summary>
    public string ConfPath { get; }

    /// <summary>The lines of the conf that name the database (for a gateway process's conf).</summary>
    public string ConfLines { get; }

    public Task ExecAsync(string sql) => _exec(sql);

    public static async Task<MigrationDatabase> CreateAsync(string kind, string dir)
    {
        var prefix = Path.Combine(dir, "p-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(prefix);
        string lines;
        Func<string, Task> exec;
        if (kind == "sqlite")
        {
            var file = Path.Combine(prefix, "gatehouse.db");
            lines = $"database = sqlite\nsqlite_path = {file}\n";
            exec = async sql =>
            {
                await using var conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Pooling = false }.ToString());
                await conn.OpenAsync();
                await using var cmd = conn.CreateCommand();
                cmd.CommandText = sql;
                await cmd.ExecuteNonQueryAsync();
            };
        }
        else
        {
            var server = await PostgresServer.SharedAsync();
            var database = (await server.CreateDatabaseAsync()).Database;
            lines = server.ConfLines(database);
            exec = async sql =>
            {
                await using var conn = new NpgsqlConnection(server.ConnectionString(database));
                await conn.OpenAsync();
                await using var cmd = new NpgsqlCommand(sql, conn);
                await cmd.ExecuteNonQueryAsync();
            };
        }
        var conf = Path.Combine(prefix, "gatehouse.conf");
        // nothing listens on a fixed port: a start these tests expect to fail cannot fail for a taken port instead
        await File.WriteAllTextAsync(conf, $"prefix = {prefix}\nproxy_listen = 127.0.0.1:0\nadmin_listen = off\nlog_level = error\n{lines}");
        return new MigrationDatabase(conf, lines, exec);
    }
}
