using System.Net;
using System.Net.Sockets;
using Gatehouse.Config;
using Gatehouse.Store.Postgres;
using Gatehouse.Tests.Admin;
using Gatehouse.Tests.Cli;
using Gatehouse.Tests.Infrastructure;
using Npgsql;

namespace Gatehouse.Tests.Store.Postgres;

/// <summary>
/// Every pg_* key read from gatehouse.conf text and proved on a real PostgreSQL server: where the tables land,
/// who owns them, TLS, timeouts, the bounds on queries and connections, and where reads go with pg_ro_*.
/// </summary>
public sealed class PostgresConfKeyTests
{
    private static GatehouseOptions Conf(string text)
    {
        var result = GatehouseConfLoader.LoadText(text, new Dictionary<string, string?>());
        Assert.True(result.Options is not null, string.Join("\n", result.Errors));
        return result.Options!;
    }

    private static async Task<T?> Scalar<T>(PostgresServer server, string database, string sql)
    {
        await using var conn = new NpgsqlConnection(server.ConnectionString(database));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        var value = await cmd.ExecuteScalarAsync();
        return value is null or DBNull ? default : (T)value;
    }

    [Fact]
    public async Task Pg_user_password_and_database_reach_a_server_that_asks_for_a_password_and_root_masks_them()
    {
        await using var server = await PostgresServer.StartAsync(password: "primary-pw");
        await Scalar<object>(server, "postgres", "CREATE ROLE owner2 LOGIN PASSWORD 'owner2-pw'");
        await Scalar<object>(server, "postgres", "CREATE DATABASE d_owned OWNER owner2");
        var conf = $"database = postgres\npg_host = 127.0.0.1\npg_port = {server.Port}\npg_user = owner2\npg_password = owner2-pw\n"
            + "pg_database = d_owned\npg_ro_password = replica-pw\n";

        await using (var host = await AdminTestHost.StartAsync(Conf(conf)))
        {
            Assert.Equal(201, (await host.PostAsync("/services", new { name = "s", url = "http://s.test" })).Status);
            var (status, root) = await host.GetAsync("/");
            Assert.Equal(200, status);
            Assert.Equal("******", (string?)root!["configuration"]!["pg_password"]);
            Assert.Equal("******", (string?)root["configuration"]!["pg_ro_password"]);
            Assert.DoesNotContain("owner2-pw", root.ToJsonString());
            Assert.DoesNotContain("replica-pw", root.ToJsonString());
        }
        // the tables are in pg_database and belong to pg_user
        Assert.Equal("owner2", await Scalar<string>(server, "d_owned", "SELECT tableowner FROM pg_tables WHERE tablename = 'services'"));
        Assert.Equal(1L, await Scalar<long>(server, "d_owned", "SELECT count(*) FROM services"));

        // a wrong password stops the start with one line naming the server
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            AdminTestHost.StartAsync(Conf(conf.Replace("pg_password = owner2-pw", "pg_password = wrong", StringComparison.Ordinal))));
        Assert.StartsWith($"cannot use the PostgreSQL server at 127.0.0.1:{server.Port}/d_owned", error.Message);
        Assert.Contains("password authentication failed for user \"owner2\"", error.Message);
    }

    [Fact]
    public async Task Pg_schema_holds_the_tables_and_is_created_when_absent()
    {
        var server = await PostgresServer.SharedAsync();
        var db = (await server.CreateDatabaseAsync()).Database;
        await using (var host = await AdminTestHost.StartAsync(Conf(server.ConfLines(db) + "pg_schema = gh_tables\n")))
            Assert.Equal(201, (await host.PostAsync("/services", new { name = "s", url = "http://s.test" })).Status);
        Assert.Equal(1L, await Scalar<long>(server, db, "SELECT count(*) FROM gh_tables.services"));
        Assert.Equal(0L, await Scalar<long>(server, db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = 'services'"));
    }

    [Fact]
    public async Task Pg_ssl_uses_tls_and_pg_ssl_verify_refuses_an_untrusted_certificate()
    {
        await using var server = await PostgresServer.StartAsync(ssl: true);
        foreach (var (ssl, db) in new[] { (true, "d_tls"), (false, "d_plain") })
        {
            await Scalar<object>(server, "postgres", $"CREATE DATABASE {db}");
            await using var host = await AdminTestHost.StartAsync(Conf(server.ConfLines(db) + $"pg_ssl = {(ssl ? "on" : "off")}\n"));
            Assert.Equal(201, (await host.PostAsync("/services", new { name = "s", url = "http://s.test" })).Status);
            // the gateway's pooled connections stay open: the server says whether each one is TLS
            var tls = await Scalar<string>(server, "postgres",
                $"SELECT string_agg(DISTINCT s.ssl::text, ',') FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = '{db}' AND a.application_name = 'gatehouse'");
            Assert.Equal(ssl ? "true" : "false", tls);
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            AdminTestHost.StartAsync(Conf(server.ConfLines("d_tls") + "pg_ssl = on\npg_ssl_verify = on\n")));
        Assert.StartsWith($"cannot use the PostgreSQL server at 127.0.0.1:{server.Port}/d_tls", error.Message);
        Assert.Contains("certificate", error.Message, StringComparison.OrdinalIgnoreCase);

        // pg_ro_ssl: the replica's connections use TLS while the primary's do not
        var replicaConf = server.ConfLines("d_plain") + "pg_ro_host = 127.0.0.1\npg_ro_database = d_tls\npg_ro_ssl = on\n";
        await using (var host = await AdminTestHost.StartAsync(Conf(replicaConf)))
        {
            Assert.Equal(200, (await host.GetAsync("/services/s")).Status);
            Assert.Equal("true", await Scalar<string>(server, "postgres",
                "SELECT string_agg(DISTINCT s.ssl::text, ',') FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = 'd_tls' AND a.application_name = 'gatehouse'"));
        }
        var replicaError = await Assert.ThrowsAsync<InvalidOperationException>(() => AdminTestHost.StartAsync(Conf(replicaConf + "pg_ro_ssl_verify = on\n")));
        Assert.StartsWith($"cannot use the PostgreSQL read replica at 127.0.0.1:{server.Port}/d_tls", replicaError.Message);
        Assert.Contains("certificate", replicaError.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Pg_ro_keys_reach_a_replica_on_another_server()
    {
        var primary = await PostgresServer.SharedAsync();
        var primaryDb = (await primary.CreateDatabaseAsync()).Database;
        await using var other = await PostgresServer.StartAsync(password: "admin-pw");
        await Scalar<object>(other, "postgres", "CREATE ROLE reader LOGIN PASSWORD 'reader-pw'");
        await Scalar<object>(other, "postgres", "CREATE DATABASE d_ro OWNER reader");
        var replicaAsPrimary = $"database = postgres\npg_host = 127.0.0.1\npg_port = {other.Port}\npg_user = reader\npg_password = reader-pw\n"
            + "pg_database = d_ro\npg_schema = ro_tables\n";
        await using (var alone = await AdminTestHost.StartAsync(Conf(replicaAsPrimary)))
            Assert.Equal(201, (await alone.PostAsync("/services", new { name = "replica-only", url = "http://r.test" })).Status);

        var conf = primary.ConfLines(primaryDb) + $"pg_ro_host = 127.0.0.1\npg_ro_port = {other.Port}\npg_ro_user = reader\npg_ro_password = reader-pw\n"
            + "pg_ro_database = d_ro\npg_ro_schema = ro_tables\npg_ro_timeout = 2500\npg_ro_ssl = off\n";
        var options = Conf(conf);
        var replica = new NpgsqlConnectionStringBuilder(PostgresConnections.ConnectionString(options.Postgres.ReadReplica()!));
        Assert.Equal((3, 3), (replica.Timeout, replica.CommandTimeout));
        await using (var host = await AdminTestHost.StartAsync(options))
            Assert.Equal("http", (string?)(await host.GetAsync("/services/replica-only")).Body!["protocol"]);

        // a replica that cannot be reached stops the start, naming it
        var closed = EchoUpstream.ClosedPort();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            AdminTestHost.StartAsync(Conf(conf.Replace($"pg_ro_port = {other.Port}", $"pg_ro_port = {closed}", StringComparison.Ordinal))));
        Assert.StartsWith($"cannot use the PostgreSQL read replica at 127.0.0.1:{closed}/d_ro", error.Message);
        error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            AdminTestHost.StartAsync(Conf(conf.Replace("pg_ro_password = reader-pw", "pg_ro_password = wrong", StringComparison.Ordinal))));
        Assert.Contains("password authentication failed for user \"reader\"", error.Message);
    }

    [Theory]
    [InlineData("pg_max_concurrent_queries = 1\npg_semaphore_timeout = 200\n", false, "pg_semaphore_timeout (200 ms)")]
    [InlineData("pg_ro_host = 127.0.0.1\npg_ro_max_concurrent_queries = 1\npg_ro_semaphore_timeout = 200\n", true, "pg_ro_semaphore_timeout (200 ms)")]
    public async Task Semaphore_timeout_fails_a_query_that_waits_too_long_for_a_slot(string keys, bool read, string named)
    {
        var server = await PostgresServer.SharedAsync();
        var db = (await server.CreateDatabaseAsync()).Database;
        await using var connections = new PostgresConnections(Conf(server.ConfLines(db) + keys).Postgres);
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = connections.RunAsync(read, async _ =>
        {
            holding.SetResult();
            await release.Task;
            return true;
        }, CancellationToken.None);
        await holding.Task; // the only slot is taken until release
        var error = await Assert.ThrowsAsync<TimeoutException>(() => connections.RunAsync(read, _ => Task.FromResult(true), CancellationToken.None));
        Assert.Contains(named, error.Message);
        release.SetResult();
        Assert.True(await first);
        Assert.True(await connections.RunAsync(read, _ => Task.FromResult(true), CancellationToken.None));
    }

    [Fact]
    public async Task Pg_timeout_bounds_the_connect_to_a_server_that_never_answers()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start(); // accepts (the kernel's backlog) and never says a word
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var options = Conf($"database = postgres\npg_host = 127.0.0.1\npg_port = {port}\npg_timeout = 1500\n");
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.Postgres.Timeout);
        // Npgsql counts whole seconds: 1500 ms is 2 s, for the connect and for each query
        var connection = new NpgsqlConnectionStringBuilder(PostgresConnections.ConnectionString(options.Postgres));
        Assert.Equal((2, 2), (connection.Timeout, connection.CommandTimeout));

        // a server that never answers is an outage, not a misconfiguration: without a persisted snapshot the start fails
        using var prefix = new TempDir();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => AdminTestHost.StartAsync(options with { Prefix = prefix.Path }));
        // the reason is Npgsql's (a connect or a read timeout, depending on where the wait ran out)
        Assert.StartsWith($"database postgres 127.0.0.1:{port}/kong is unreachable: ", error.Message);
        Assert.Contains("no configuration snapshot to start from", error.Message);
    }

    /// <summary>Queries in flight at once, counted inside the actions: never above the key's bound, and the bound is
    /// reached (the queries did run concurrently).</summary>
    [Theory]
    [InlineData("pg_max_concurrent_queries = 2\n", false, 2)]
    [InlineData("pg_ro_host = 127.0.0.1\npg_ro_max_concurrent_queries = 1\n", true, 1)]
    public async Task Max_concurrent_queries_bounds_the_queries_in_flight(string keys, bool read, int bound)
    {
        var server = await PostgresServer.SharedAsync();
        var db = (await server.CreateDatabaseAsync()).Database;
        await using var connections = new PostgresConnections(Conf(server.ConfLines(db) + keys).Postgres);
        var inFlight = 0;
        var most = 0;
        var full = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => connections.RunAsync(read, async conn =>
        {
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref most, now);
            if (now >= bound) full.TrySetResult();
            await full.Task; // the first ones hold their slots until the bound is reached: it is, whatever the load
            await using var cmd = new NpgsqlCommand("SELECT pg_sleep(0.05)", conn);
            await cmd.ExecuteNonQueryAsync();
            Interlocked.Decrement(ref inFlight);
            return true;
        }, CancellationToken.None)));
        Assert.Equal(bound, most);
    }

    /// <summary>Connections the server sees from one node after six concurrent queries: the pool's bound (idle pooled
    /// connections stay open, so the count is exact).</summary>
    [Theory]
    [InlineData("pg_pool_size = 2\n", false, 2)]
    [InlineData("pg_pool_size = 4\npg_ro_host = 127.0.0.1\npg_ro_pool_size = 3\n", true, 3)]
    public async Task Pool_size_bounds_the_connections_to_the_server(string keys, bool read, long bound)
    {
        var server = await PostgresServer.SharedAsync();
        var db = (await server.CreateDatabaseAsync()).Database;
        await using var connections = new PostgresConnections(Conf(server.ConfLines(db) + keys).Postgres);
        var holding = 0;
        var full = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => connections.RunAsync(read, async conn =>
        {
            if (Interlocked.Increment(ref holding) >= bound) full.TrySetResult();
            await full.Task; // each holds its open connection until the pool has opened as many as it may
            await using var cmd = new NpgsqlCommand("SELECT pg_sleep(0.05)", conn);
            return await cmd.ExecuteNonQueryAsync();
        }, CancellationToken.None)));
        Assert.Equal(bound, await Scalar<long>(server, "postgres",
            $"SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}' AND application_name = 'gatehouse'"));
    }

    [Fact]
    public async Task Reads_go_to_the_replica_but_the_checks_inside_a_write_read_the_primary()
    {
        var server = await PostgresServer.SharedAsync();
        var primary = (await server.CreateDatabaseAsync()).Database;
        var replica = (await server.CreateDatabaseAsync()).Database;
        // the "replica": its own database, with a service the primary does not have
        await using (var alone = await AdminTestHost.StartAsync(Conf(server.ConfLines(replica))))
            Assert.Equal(201, (await alone.PostAsync("/services", new { name = "only-on-replica", url = "http://r.test" })).Status);

        await using var host = await AdminTestHost.StartAsync(Conf(server.ConfLines(primary) + $"pg_ro_host = 127.0.0.1\npg_ro_database = {replica}\n"));
        Assert.Equal(200, (await host.GetAsync("/services/only-on-replica")).Status);
        var (created, service) = await host.PostAsync("/services", new { name = "p", url = "http://p.test" });
        Assert.Equal(201, created);
        Assert.Equal(404, (await host.GetAsync("/services/p")).Status); // the replica has not seen it

        // existence, foreign keys and uniqueness are checked on the primary, which has it
        var (routeStatus, route) = await host.PostAsync("/routes", new { name = "r", paths = new[] { "/p" }, service = new { id = (string)service!["id"]! } });
        Assert.True(routeStatus == 201, route?.ToJsonString());
        Assert.Equal(200, (await host.SendAsync(HttpMethod.Patch, "/services/p", new { retries = 2 })).Status);
        Assert.Equal(409, (await host.PostAsync("/services", new { name = "p", url = "http://p.test" })).Status);
        Assert.Equal(2, await Scalar<long>(server, primary, "SELECT count(*) FROM services") + await Scalar<long>(server, primary, "SELECT count(*) FROM routes"));
        Assert.Equal(1L, await Scalar<long>(server, replica, "SELECT count(*) FROM services"));
    }

    [Theory]
    [InlineData("pg_keepalive_timeout = 60000")]
    [InlineData("pg_ro_keepalive_timeout = 60000")]
    [InlineData("pg_backlog = 10")]
    [InlineData("pg_ro_backlog = 10")]
    public void Kong_pg_keys_Gatehouse_does_not_implement_stop_the_start(string line)
    {
        var result = GatehouseConfLoader.LoadText("database = postgres\n" + line, new Dictionary<string, string?>());
        Assert.Null(result.Options);
        Assert.StartsWith(line.Split(' ')[0] + ": not supported by Gatehouse", Assert.Single(result.Errors));
        Assert.Empty(result.Warnings);
    }

    [Theory]
    [InlineData("pg_host = 127.0.0.1\npg_port = {closed}\n", "127.0.0.1:{closed}/kong", "Connection refused")]
    [InlineData("pg_host = no-such-host.invalid\n", "no-such-host.invalid:5432/kong", "no configuration snapshot")]
    public async Task Start_with_an_unreachable_server_fails_in_one_line_naming_it(string keys, string where, string reason)
    {
        using var dir = new TempDir();
        var closed = EchoUpstream.ClosedPort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var conf = dir.File("gatehouse.conf");
        await File.WriteAllTextAsync(conf, $"prefix = {dir.File("prefix")}\nproxy_listen = 127.0.0.1:0\nadmin_listen = off\ndatabase = postgres\n"
            + keys.Replace("{closed}", closed, StringComparison.Ordinal) + "pg_timeout = 2000\n");
        var (code, _, err) = await CliRun.RunAsync("start", "-c", conf);
        Assert.Equal(1, code);
        // unreachable is an outage: a node would start on its persisted snapshot; this one has none
        Assert.Contains($"error: cannot start: database postgres {where.Replace("{closed}", closed, StringComparison.Ordinal)} is unreachable", err);
        Assert.Contains(reason, err);
        Assert.DoesNotContain("   at ", err); // no stack trace
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen)
        {
            var was = Interlocked.CompareExchange(ref target, value, seen);
            if (was == seen) return;
            seen = was;
        }
    }
}
