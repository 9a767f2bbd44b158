using System.Collections;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Entities.Schemas;
using Gatehouse.Hosting;
using Gatehouse.Model;
using Gatehouse.Store;
using Gatehouse.Store.Declarative;
using Gatehouse.Store.Sqlite;
using Gatehouse.Tests.Admin;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Tests.Store;

/// <summary>
/// A DB-less load publishes the validated rows converted to what the store reads back (<see cref="StoredRows"/>), not
/// the rows read back: these prove both give the same rows (text, order, and parsed values, not CLR-typed ones, except
/// for the routes and services published as validated) and the same published configuration, for a configuration with
/// every kind of value.
/// </summary>
public sealed class DeclarativePublishTests
{
    private static readonly EntityRegistry Registry = GatehouseEntities.Default;

    /// <summary>Numbers as integers, decimals and defaults; ids given out of order and in upper case; routes that tie
    /// (same path, same priority: the router keeps the first); nested and top-level records; credentials that are
    /// transformed (basic-auth password); plugin configs with nested records, arrays and numbers; upstreams and targets
    /// with weights; a certificate with SNIs; a vault; tags.</summary>
    internal static string VariedYaml()
    {
        var pem = TestCertificates.Rsa("CN=varied.test");
        static string Indent(string text, int n) => string.Join("\n", text.Trim().Split('\n').Select(l => new string(' ', n) + l));
        return $$"""
_format_version: "3.0"
services:
  - name: svc-b
    url: http://127.0.0.1:9/b
    retries: 7
    connect_timeout: 1500
    write_timeout: 60000.0
    tags: [b, "ü-tag"]
    routes:
      - name: tie-2
        id: "f0000000-0000-4000-8000-000000000002"
        paths: ["/tie"]
      - name: tie-1
        id: "0F000000-0000-4000-8000-000000000001"
        paths: ["/tie"]
        regex_priority: 0
      - name: regex
        paths: ["~/r/(?<id>\\d+)$"]
        regex_priority: 12
        methods: [GET, POST]
        https_redirect_status_code: 301
        strip_path: false
      - name: hosts
        hosts: ["a.test", "*.wild.test"]
        headers: {x-a: ["1", "2"]}
        protocols: [http, https]
    plugins:
      - name: rate-limiting
        config: {second: 2.5, minute: 5, policy: local, limit_by: consumer}
  - name: svc-a
    id: "a0000000-0000-4000-8000-00000000000a"
    protocol: https
    host: example.test
    port: 8443
    path: /base
    read_timeout: 1
routes:
  - name: top
    service: svc-a
    paths: ["/top", "/top2"]
    path_handling: v1
    preserve_host: true
plugins:
  - name: cors
    route: hosts
    config: {origins: ["https://a.test"], max_age: 3600, credentials: true, methods: [GET]}
  - name: request-transformer
    config:
      add: {headers: ["x-a:1", "x-b:ü"], querystring: []}
      remove: {headers: [x-c]}
  - name: request-size-limiting
    service: svc-a
    config: {allowed_payload_size: 2, size_unit: megabytes}
consumers:
  - username: alice
    custom_id: c-1
    keyauth_credentials:
      - key: alice-key
    basicauth_credentials:
      - username: alice
        password: secret
    acls:
      - group: g1
  - username: bob
    tags: [t]
upstreams:
  - name: up
    slots: 100
    healthchecks:
      active:
        type: http
        http_path: /health
        healthy: {interval: 5, successes: 2}
        unhealthy: {interval: 5, http_failures: 3}
    targets:
      - target: 127.0.0.1:9001
        weight: 50
      - target: 127.0.0.1:9002
certificates:
  - cert: |
{{Indent(pem.Cert, 6)}}
    key: |
{{Indent(pem.Key, 6)}}
    snis:
      - name: varied.test
      - name: "*.varied.test"
vaults:
  - name: env
    prefix: my-env
    config: {prefix: "GH_"}
""";
    }

    /// <summary>A fresh in-memory SQLite store, migrated.</summary>
    private static async Task<SqliteEntityStore> MigratedStoreAsync()
    {
        var store = SqliteEntityStore.InMemory(Registry, TimeProvider.System);
        await store.MigrateAsync(default);
        return store;
    }

    /// <summary>A node's publisher of <paramref name="store"/>'s rows into <paramref name="gateway"/>.</summary>
    private static StoreConfigPublisher PublisherOver(SqliteEntityStore store, GatewayConfigPublisher gateway,
        Gatehouse.Config.GatehouseOptions? options = null) =>
        new(store, Registry, gateway, NullLogger<StoreConfigPublisher>.Instance, options: options);

    [Fact]
    public async Task Stored_rows_are_the_rows_the_store_reads_back()
    {
        var loaded = new DeclarativeLoader(Registry, TimeProvider.System).Load(Encoding.UTF8.GetBytes(VariedYaml()));
        Assert.True(loaded.IsValid, loaded.Error?.ToJson().ToJsonString());
        using var store = await MigratedStoreAsync();
        await store.ReplaceAllAsync(loaded.Entities!, default);
        var readBack = await ((IEntityStore)store).SnapshotAsync(Registry.Schemas, default);

        var stored = StoredRows.Of(Registry, loaded.Entities!);

        Assert.Equal(readBack.Keys.Select(s => s.Name), stored.Keys.Select(s => s.Name));
        foreach (var (schema, rows) in readBack)
        {
            Assert.Equal(rows.Select(r => r.ToJsonString()), stored[schema].Select(r => r.ToJsonString()));
            // every entity's rows are parsed values, as read back
            for (var i = 0; i < rows.Count; i++) Assert.Equal(Shape(rows[i]), Shape(stored[schema][i]));
        }
        // the configuration exercises what it is meant to: routes out of load order, numbers of every form
        var routes = readBack[Registry.ByName("routes")!];
        Assert.Equal("tie-1", (string)routes[0]["name"]!);
        Assert.All(new[] { "services", "routes", "plugins", "consumers", "keyauth_credentials", "basicauth_credentials", "acls",
            "upstreams", "targets", "certificates", "snis", "vaults" }, name => Assert.NotEmpty(readBack[Registry.ByName(name)!]));
        Assert.Contains(loaded.Entities!.SelectMany(e => e.Value), r => Leaves(r).Any(v => v.GetValueKind() == JsonValueKind.Number));
        // a load keeps its validated rows as text (a tree is ~5 times the size): what they publish is their text parsed
        Assert.All(loaded.Entities!.Values, rows => Assert.IsType<JsonTextRows>(rows));
    }

    [Fact]
    public async Task A_declarative_load_publishes_what_a_reload_from_the_store_publishes()
    {
        using var store = await MigratedStoreAsync();
        var gateway = new GatewayConfigPublisher();
        var publisher = PublisherOver(store, gateway);
        var declarative = new DeclarativeConfigService(store, Registry, new DeclarativeLoader(Registry, TimeProvider.System), publisher);

        var result = await declarative.ApplyAsync(Encoding.UTF8.GetBytes(VariedYaml()), keepEntities: false, default);
        Assert.True(result.IsValid);
        var fromLoad = gateway.Current;
        var hashFromLoad = publisher.ConfigurationHash;
        var fromStore = await publisher.ReloadAsync(default);

        Assert.Equal(fromLoad.Version + 1, fromStore.Version);
        Assert.Equal(Dump(fromStore with { Version = 0 }), Dump(fromLoad with { Version = 0 }));
        // the load's hash is the file's (not the MD5 of every row, which a reload computes)
        Assert.Equal(declarative.ConfigurationHash, hashFromLoad);
        Assert.Equal(["tie-1", "tie-2"], fromLoad.Routes.Where(r => r.Paths.Contains("/tie")).Select(r => r.Name));
    }

    /// <summary>Only a Wasm filter reads a route's or service's Admin API JSON (<c>kong.router.route</c>/<c>service</c>):
    /// a node with <c>wasm = off</c> publishes them without it (52 MB for 100,000 routes), a node with filters with it.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Routes_and_services_carry_their_json_only_on_a_node_where_filters_run(bool wasm)
    {
        using var store = await MigratedStoreAsync();
        var gateway = new GatewayConfigPublisher();
        var publisher = PublisherOver(store, gateway, new Gatehouse.Config.GatehouseOptions { Wasm = wasm });
        var declarative = new DeclarativeConfigService(store, Registry, new DeclarativeLoader(Registry, TimeProvider.System), publisher);

        Assert.True((await declarative.ApplyAsync(Encoding.UTF8.GetBytes(VariedYaml()), keepEntities: false, default)).IsValid);
        foreach (var config in new[] { gateway.Current, await publisher.ReloadAsync(default) })
        {
            Assert.Equal(wasm, config.EntityDocuments);
            Assert.NotEmpty(config.Routes);
            Assert.NotEmpty(config.Services);
            var routes = await store.ListAllAsync(Registry.ByName("routes")!, default);
            var services = await store.ListAllAsync(Registry.ByName("services")!, default);
            foreach (var route in config.Routes)
                Assert.Equal(wasm ? EntityJson.Document(RouteEntity.Schema, routes.Single(r => Guid.Parse((string)r["id"]!) == route.Id)) : [],
                    route.Document.ToArray());
            foreach (var service in config.Services)
                Assert.Equal(wasm ? EntityJson.Document(ServiceEntity.Schema, services.Single(r => Guid.Parse((string)r["id"]!) == service.Id)) : [],
                    service.Document.ToArray());
        }
    }

    /// <summary>POST /config's way: the validated rows are handed out before anything is stored (the answer is written
    /// from them), then let go of as they are compiled; what is published is still what a reload publishes.</summary>
    [Fact]
    public async Task A_load_that_hands_its_rows_out_first_publishes_what_a_reload_publishes()
    {
        using var store = await MigratedStoreAsync();
        var gateway = new GatewayConfigPublisher();
        var publisher = PublisherOver(store, gateway);
        var declarative = new DeclarativeConfigService(store, Registry, new DeclarativeLoader(Registry, TimeProvider.System), publisher);
        var before = gateway.Current.Version;
        string? handedOut = null;
        var storedWhenHandedOut = -1;

        var result = await declarative.ApplyAsync(Encoding.UTF8.GetBytes(VariedYaml()), rows =>
        {
            handedOut = string.Join("\n", rows.SelectMany(e => e.Value.Select(r => e.Key.Name + " " + r.ToJsonString())));
            storedWhenHandedOut = Task.Run(() => store.ListAllAsync(Registry.ByName("routes")!, default)).Result.Count;
            Assert.Equal(before, gateway.Current.Version);
        }, default);

        Assert.True(result.IsValid);
        Assert.Null(result.Entities);
        Assert.Equal(0, storedWhenHandedOut); // handed out before the store held anything
        var expected = new DeclarativeLoader(Registry, TimeProvider.System).Load(Encoding.UTF8.GetBytes(VariedYaml())).Entities!;
        Assert.Equal(expected.Sum(e => e.Value.Count), handedOut!.Split('\n').Length);
        Assert.Contains("\"name\":\"tie-1\"", handedOut);
        var fromLoad = gateway.Current;
        var fromStore = await publisher.ReloadAsync(default);
        Assert.Equal(Dump(fromStore with { Version = 0 }), Dump(fromLoad with { Version = 0 }));
    }

    /// <summary>A large load collects once its rows are models (<c>built</c>): by then every row it consumed has been let
    /// go of, and nothing is published yet, so the collection finds the rows' text dead and the previous configuration
    /// still served; the hook runs once.</summary>
    [Fact]
    public async Task The_built_hook_runs_once_after_every_row_is_converted_and_before_publication()
    {
        using var store = await MigratedStoreAsync();
        var gateway = new GatewayConfigPublisher();
        var publisher = PublisherOver(store, gateway);
        var loaded = new DeclarativeLoader(Registry, TimeProvider.System).Load(Encoding.UTF8.GetBytes(VariedYaml()));
        Assert.True(loaded.IsValid);
        var rows = StoredRows.Of(Registry, loaded.Entities!);
        await store.ReplaceAllAsync(rows, default);
        var before = gateway.Current.Version;
        var calls = 0;
        long versionAtHook = -1;
        var readableAtHook = -1;

        var published = await publisher.PublishStoredAsync(rows, "0123456789abcdef0123456789abcdef", default, consume: true, built: () =>
        {
            calls++;
            versionAtHook = gateway.Current.Version;
            readableAtHook = rows.Values.Sum(list => Enumerable.Range(0, list.Count).Count(i =>
            {
                try { _ = list[i]; return true; }
                catch (InvalidOperationException) { return false; }
            }));
        });

        Assert.Equal(1, calls);
        Assert.Equal(before, versionAtHook);
        Assert.Equal(0, readableAtHook);
        Assert.True(rows.Values.Sum(list => list.Count) > 10);
        Assert.Equal(published.Version, gateway.Current.Version);
        Assert.Equal(before + 1, published.Version);
        Assert.Equal(Dump(published with { Version = 0 }), Dump((await publisher.ReloadAsync(default)) with { Version = 0 }));
    }

    /// <summary>DB-less, the cluster status reports the loaded file's hash, the one <c>/status</c> reports, for a file
    /// given at start and for each <c>POST /config</c>.</summary>
    [Fact]
    public async Task Db_less_cluster_status_reports_the_hash_of_the_loaded_file()
    {
        using var dir = new TempDir();
        await using var host = await AdminTestHost.StartDbLessAsync(VariedYaml(), dir);
        var declarative = host.Services.GetRequiredService<DeclarativeConfigService>();
        var nodeId = (string)(await host.GetAsync("/")).Body!["node_id"]!;
        var atStart = declarative.ConfigurationHash;
        Assert.Equal(DeclarativeConfigService.HashOf(await File.ReadAllBytesAsync(dir.File("kong.yml"))), atStart);
        Assert.Equal(atStart, (string)(await host.GetAsync("/clustering/status")).Body![nodeId]!["config_hash"]!);

        var other = Encoding.UTF8.GetBytes("_format_version: \"3.0\"\nservices:\n  - name: only\n    url: http://127.0.0.1:9/\n");
        Assert.Equal(201, (await host.SendRawAsync(HttpMethod.Post, "/config", other, "application/yaml")).Status);
        var status = (await host.GetAsync("/clustering/status")).Body![nodeId]!;
        Assert.Equal(DeclarativeConfigService.HashOf(other), (string)status["config_hash"]!);
        Assert.Equal(host.Publisher.Current.Version, (long)status["config_version"]!);
    }

    private static IEnumerable<JsonValue> Leaves(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => Leaves(p.Value)),
        JsonArray a => a.SelectMany(Leaves),
        JsonValue v => [v],
        _ => [],
    };

    /// <summary>Each node's type and, for a value, its kind and whether it is a parsed element (what typed reads such as
    /// <c>GetValue&lt;int&gt;</c> depend on), in document order.</summary>
    private static string Shape(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject o => "{" + string.Join(",", o.Select(p => p.Key + ":" + Shape(p.Value))) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Shape)) + "]",
        JsonValue v => (v.TryGetValue<JsonElement>(out _) ? "element " : "clr " + v.GetType().Name + " ") + v.GetValueKind(),
        _ => node.GetType().Name,
    };

    /// <summary>Every public property of the published model, recursively (JSON nodes with their <see cref="Shape"/>).</summary>
    internal static string Dump(object? value, int depth = 0)
    {
        if (depth > 8) return "…";
        switch (value)
        {
            case null: return "null";
            case string s: return JsonSerializer.Serialize(s);
            case JsonNode n: return n.ToJsonString() + " " + Shape(n);
            case byte[] b: return Convert.ToBase64String(b);
            case Delegate: return "delegate";
            case IEnumerable e: return "[" + string.Join(",", e.Cast<object?>().Select(x => Dump(x, depth + 1))) + "]";
        }
        var type = value.GetType();
        if (type.IsPrimitive || type.IsEnum || value is Guid or decimal or DateTimeOffset or DateTime or TimeSpan) return value.ToString()!;
        if (type.Namespace?.StartsWith("Gatehouse", StringComparison.Ordinal) != true) return type.Name;
        var sb = new StringBuilder(type.Name).Append('{');
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
            sb.Append(p.Name).Append('=').Append(Dump(p.GetValue(value), depth + 1)).Append(';');
        return sb.Append('}').ToString();
    }
}
