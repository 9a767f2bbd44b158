using Gatehouse.Tests.Wasm;
using static Gatehouse.Tests.Cli.CliRun;

namespace Gatehouse.Tests.Cli;

/// <summary><c>gatehouse config db_import FILE</c> and <c>config db_export [FILE]</c> (Kong's), on SQLite and on a real
/// PostgreSQL server: import adds or replaces by primary key and keeps the rest; export writes what an import reads back.</summary>
public sealed class DbImportExportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gatehouse-db-import-").FullName;
    private readonly string _filters = WasmPaths.CopyFilters(WasmPaths.Examples, "add-headers");

    public static TheoryData<string> Kinds => MigrationDatabase.Kinds;

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        Directory.Delete(_filters, recursive: true);
    }

    private string Write(string text)
    {
        var path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".yml");
        File.WriteAllText(path, text);
        return path;
    }

    private string Out() => Path.Combine(_dir, Guid.NewGuid().ToString("N") + "-export.yml");

    /// <summary>A bootstrapped database whose node has the add-headers filter.</summary>
    private async Task<MigrationDatabase> BootstrappedAsync(string kind)
    {
        var db = await MigrationDatabase.CreateAsync(kind, _dir);
        await File.AppendAllTextAsync(db.ConfPath, $"wasm = on\nwasm_filters_path = {_filters}\n");
        var (code, _, error) = await RunAsync("migrations", "bootstrap", "-c", db.ConfPath);
        Assert.True(code == 0, error);
        return db;
    }

    private const string Everything = """
        _format_version: "3.0"
        services:
          - name: billing
            url: http://billing.internal:8080/v1
            tags: [team-a]
            routes:
              - name: billing-route
                paths: [/billing]
                filter_chains:
                  - name: billing-chain
                    filters:
                      - name: add-headers
                        config: {response: {add: {x-billing: "1"}}}
            plugins:
              - name: rate-limiting
                config: {minute: 5, policy: local}
          - name: users
            host: users.internal
        routes:
          - name: users-route
            service: users
            hosts: [users.example]
        consumers:
          - username: alice
            keyauth_credentials:
              - key: alice-key
            basicauth_credentials:
              - username: alice-basic
                password: s3cret
            acls:
              - group: admins
        plugins:
          - name: key-auth
            route: users-route
        upstreams:
          - name: users.internal
            targets:
              - target: 10.0.0.1:80
                weight: 50
              - target: 10.0.0.2:80
        vaults:
          - prefix: app-env
            name: env
            config:
              prefix: APP_
        """;

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Import_then_export_round_trips_every_entity(string kind)
    {
        var db = await BootstrappedAsync(kind);
        var (code, output, error) = await RunAsync("config", "db_import", Write(Everything), "-c", db.ConfPath);
        Assert.True(code == 0, error);
        Assert.Equal("parse successful, beginning import\nimport successful\n", output);

        var first = Out();
        (code, _, error) = await RunAsync("config", "db_export", first, "-c", db.ConfPath);
        Assert.True(code == 0, error);
        var exported = await File.ReadAllTextAsync(first);
        foreach (var expected in new[] { "billing", "billing-route", "billing-chain", "x-billing", "rate-limiting", "users-route",
                     "users.example", "alice", "alice-key", "alice-basic", "admins", "key-auth", "users.internal", "10.0.0.1:80", "10.0.0.2:80", "team-a", "app-env", "APP_" })
            Assert.Contains(expected, exported);
        var parsed = await RunAsync("config", "parse", first, "-c", db.ConfPath);
        Assert.True(parsed.Code == 0, parsed.Err);
        Assert.Equal("parse successful: 2 services, 2 routes, 1 consumers, 2 plugins, 1 keyauth_credentials, 1 basicauth_credentials, " +
            "1 acls, 1 filter_chains, 1 upstreams, 2 targets, 0 certificates, 0 snis, 0 ca_certificates, 0 key_sets, 0 keys, 1 vaults\n", parsed.Out);

        Assert.DoesNotContain("s3cret", exported); // stored hashed, exported with _transform: false
        // the export imported into an empty database exports the same file: ids, timestamps and every field survive
        // (the hashed password is not hashed again)
        var other = await BootstrappedAsync(kind);
        (code, _, error) = await RunAsync("config", "db_import", first, "-c", other.ConfPath);
        Assert.True(code == 0, error);
        var second = Out();
        Assert.Equal(0, (await RunAsync("config", "db_export", second, "-c", other.ConfPath)).Code);
        Assert.Equal(exported, await File.ReadAllTextAsync(second));
    }

    /// <summary>Kong's db_import upserts: entities of the file replace those with the same primary key, the others stay.</summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Import_adds_and_replaces_but_does_not_wipe(string kind)
    {
        var db = await BootstrappedAsync(kind);
        Assert.Equal(0, (await RunAsync("config", "db_import", Write(Everything), "-c", db.ConfPath)).Code);
        var (code, _, error) = await RunAsync("config", "db_import", Write("""
            _format_version: "3.0"
            services:
              - name: billing
                url: http://billing-v2.internal:9090
              - name: extra
                host: extra.internal
            """), "-c", db.ConfPath);
        Assert.True(code == 0, error);
        var file = Out();
        Assert.Equal(0, (await RunAsync("config", "db_export", file, "-c", db.ConfPath)).Code);
        var exported = await File.ReadAllTextAsync(file);
        Assert.Contains("billing-v2.internal", exported);
        Assert.DoesNotContain("billing.internal", exported);
        Assert.Contains("extra.internal", exported);
        Assert.Contains("users-route", exported); // kept
        Assert.Contains("billing-route", exported); // its service was replaced, not deleted
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Import_stops_at_a_conflict_with_the_database_naming_it(string kind)
    {
        var db = await BootstrappedAsync(kind);
        Assert.Equal(0, (await RunAsync("config", "db_import", Write(Everything), "-c", db.ConfPath)).Code);
        var (code, output, error) = await RunAsync("config", "db_import", Write("""
            _format_version: "3.0"
            services:
              - id: 5f8e2a64-8b1e-4c3f-9d0a-3a1f2b4c5d6e
                name: billing
                host: elsewhere.internal
            """), "-c", db.ConfPath);
        Assert.Equal(1, code);
        Assert.Equal("parse successful, beginning import\n", output);
        Assert.Contains("Error: Failed importing:\nservices 5f8e2a64-8b1e-4c3f-9d0a-3a1f2b4c5d6e: UNIQUE violation detected on '{name=\"billing\"}'", error);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Import_and_export_refuse_what_kong_refuses(string kind)
    {
        var fresh = await MigrationDatabase.CreateAsync(kind, _dir);
        var (code, _, error) = await RunAsync("config", "db_import", Write(Everything), "-c", fresh.ConfPath);
        Assert.Equal(1, code);
        Assert.Contains("Database needs bootstrapping", error);
        (code, _, error) = await RunAsync("config", "db_export", Out(), "-c", fresh.ConfPath);
        Assert.Equal(1, code);
        Assert.Contains("Database needs bootstrapping", error);

        var db = await BootstrappedAsync(kind);
        (code, _, error) = await RunAsync("config", "db_import", Write("_format_version: \"3.0\"\nservices:\n  - name: bad\n    port: 99999\n"),
            "-c", db.ConfPath);
        Assert.Equal(1, code);
        Assert.StartsWith("Error: Failed parsing:\n", error);
        var existing = Write("keep me");
        (code, _, error) = await RunAsync("config", "db_export", existing, "-c", db.ConfPath);
        Assert.Equal((1, $"Error: {existing} already exists. Will not overwrite it.\n"), (code, error));
        Assert.Equal("keep me", await File.ReadAllTextAsync(existing));
    }

    [Fact]
    public async Task Import_and_export_refuse_database_off()
    {
        var env = new Dictionary<string, string?> { ["GATEHOUSE_DATABASE"] = "off", ["GATEHOUSE_PREFIX"] = _dir };
        var (code, _, error) = await RunAsync(env, "config", "db_import", Write(Everything));
        Assert.Equal(1, code);
        Assert.Contains("'gatehouse config db_import' only works with a database.\nWhen using database=off, reload your declarative configuration", error);
        (code, _, error) = await RunAsync(env, "config", "db_export", Out());
        Assert.Equal((1, "Error: 'gatehouse config db_export' only works with a database.\n"), (code, error));
    }
}
