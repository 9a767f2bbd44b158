using System.Diagnostics;
using System.Globalization;
using Gatehouse.Config;
using Npgsql;

namespace Gatehouse.Tests.Store.Postgres;

/// <summary>
/// A private PostgreSQL server for tests: Debian's <c>initdb</c> into a temp directory, then <c>postgres</c> on
/// 127.0.0.1 and a free port as a child process (no system service, trust authentication, durability off for
/// speed). Run as the <c>postgres</c> user when the tests run as root (PostgreSQL refuses root). Fails — never
/// skips — when PostgreSQL is not installed: CI (<c>.ci/run</c>) installs it.
/// <see cref="SharedAsync"/> is one server for the whole test run (each test takes its own database from it);
/// tests that stop and restart the server start their own with <see cref="StartAsync"/>.
/// </summary>
internal sealed class PostgresServer : IAsyncDisposable
{
    public const string User = "gatehouse";
    private static readonly Lazy<Task<PostgresServer>> Shared = new(StartSharedAsync);

    private readonly string _dir;
    private readonly string _bin;
    private readonly bool _ssl;
    private Process? _process;

    private PostgresServer(string dir, string bin, int port, string? password, bool ssl)
    {
        _dir = dir;
        _bin = bin;
        Port = port;
        Password = password;
        _ssl = ssl;
    }

    public int Port { get; }
    /// <summary>Set: the server asks every client for it (scram-sha-256); null: trust authentication.</summary>
    public string? Password { get; }
    /// <summary>The self-signed certificate the server presents when started with TLS (CN=localhost).</summary>
    public string CertificateFile => Path.Combine(_dir, "server.crt");
    public bool Running => _process is { HasExited: false };

    /// <summary>The server the whole test run shares; stopped when the test process exits.</summary>
    public static Task<PostgresServer> SharedAsync() => Shared.Value;

    /// <param name="password">require this password of every client (scram-sha-256) instead of trusting them</param>
    /// <param name="ssl">ssl = on with a self-signed certificate made by openssl (no client trusts it)</param>
    public static async Task<PostgresServer> StartAsync(string? password = null, bool ssl = false)
    {
        var bin = FindBinaries();
        var dir = Path.Combine(Path.GetTempPath(), "gatehouse-pg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var data = Path.Combine(dir, "data");
        var auth = new List<string> { "--auth=trust" };
        if (password is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "pwfile"), password + "\n");
            auth = ["--auth=scram-sha-256", "--pwfile=" + Path.Combine(dir, "pwfile")];
        }
        if (ssl)
        {
            Run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                "-keyout", Path.Combine(dir, "server.key"), "-out", Path.Combine(dir, "server.crt"));
            Run("chmod", "600", Path.Combine(dir, "server.key")); // postgres refuses a key others can read
        }
        if (IsRoot()) Run("chown", "-R", "postgres:postgres", dir);
        await RunAsPostgresAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", User, .. auth, "--no-sync", "-E", "UTF8", "--locale=C"]);
        var server = new PostgresServer(dir, bin, Infrastructure.EchoUpstream.FreePort(), password, ssl);
        await server.StartProcessAsync();
        return server;
    }

    /// <summary>Starts the server again on the same data directory and port (after <see cref="StopAsync"/>).</summary>
    public Task RestartAsync() => StartProcessAsync();

    /// <summary>Stops the server (fast shutdown: open connections are closed) and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (_process is not { HasExited: false } p) return;
        Run("kill", "-INT", p.Id.ToString(CultureInfo.InvariantCulture));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await p.WaitForExitAsync(timeout.Token);
    }

    /// <summary>A new empty database on this server, and the options that reach it.</summary>
    public async Task<PostgresOptions> CreateDatabaseAsync()
    {
        var name = "t_" + Guid.NewGuid().ToString("N");
        await using (var conn = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        return Options(name);
    }

    public PostgresOptions Options(string database) =>
        new() { Host = "127.0.0.1", Port = Port, User = User, Password = Password, Database = database, PoolSize = 20 };

    /// <summary>gatehouse.conf lines that point a gateway at <paramref name="database"/>.</summary>
    public string ConfLines(string database) =>
        $"database = postgres\npg_host = 127.0.0.1\npg_port = {Port}\npg_user = {User}\npg_database = {database}\n"
        + (Password is null ? "" : $"pg_password = {Password}\n");

    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = Port, Username = User, Password = Password, Database = database, Pooling = false, SslMode = SslMode.Disable,
        }.ConnectionString;

    private async Task StartProcessAsync()
    {
        var info = StartInfo(Path.Combine(_bin, "postgres"), "-D", Path.Combine(_dir, "data"), "-p", Port.ToString(CultureInfo.InvariantCulture),
            "-k", _dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off", "-c", "max_connections=400", "-c", "shared_buffers=32MB",
            "-c", "ssl=" + (_ssl ? "on" : "off"), "-c", "ssl_cert_file=" + CertificateFile, "-c", "ssl_key_file=" + Path.Combine(_dir, "server.key"));
        _process = Process.Start(info) ?? throw new InvalidOperationException("postgres did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        for (var i = 0; i < 300; i++)
        {
            if (_process.HasExited) break;
            try
            {
                await using var conn = new NpgsqlConnection(ConnectionString("postgres"));
                await conn.OpenAsync();
                return;
            }
            catch (NpgsqlException) { await Task.Delay(50); }
        }
        throw new InvalidOperationException($"postgres did not accept connections on 127.0.0.1:{Port} (data in {_dir})");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_process is { HasExited: false } p)
            {
                p.Kill();
                await p.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException) { }
        _process?.Dispose();
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static async Task<PostgresServer> StartSharedAsync()
    {
        var server = await StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return server;
    }

    private static bool IsRoot() => Environment.UserName == "root";

    /// <summary>postgres refuses to run as root: setpriv execs it as the postgres user in the same process, so
    /// killing the child kills the server.</summary>
    private static ProcessStartInfo StartInfo(string program, params string[] args)
    {
        var info = new ProcessStartInfo(IsRoot() ? "setpriv" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (IsRoot())
            foreach (var a in new[] { "--reuid=postgres", "--regid=postgres", "--init-groups", program }) info.ArgumentList.Add(a);
        foreach (var a in args) info.ArgumentList.Add(a);
        return info;
    }

    private static async Task RunAsPostgresAsync(string program, params string[] args)
    {
        using var p = Process.Start(StartInfo(program, args))!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{program} failed ({p.ExitCode}): {await stderr}{await stdout}");
    }

    private static void Run(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        p.WaitForExit();
    }

    /// <summary>initdb and postgres: Debian keeps them in /usr/lib/postgresql/N/bin (newest first), not on PATH.</summary>
    private static string FindBinaries()
    {
        var versions = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
            : Enumerable.Empty<string>();
        foreach (var dir in versions.Select(d => Path.Combine(d, "bin")))
            if (File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "postgres"))) return dir;
        throw new InvalidOperationException(
            "PostgreSQL is not installed (no /usr/lib/postgresql/N/bin/initdb); install it (apt-get install -y postgresql; .ci/run does) to run the PostgreSQL tests");
    }
}
