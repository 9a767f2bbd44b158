using System.Text.Json.Nodes;
using Gatehouse.Hosting;
using Gatehouse.Entities;
using Gatehouse.Entities.Schemas;
using Gatehouse.Store.Declarative;

namespace Gatehouse.Tests.Plugins;

/// <summary>kong.yml with plugins nested under services, routes and consumers, at top level, and credentials
/// nested under consumers — all from the same entity schemas.</summary>
public sealed class PluginDeclarativeTests
{
    private static readonly DeclarativeLoader Loader = new(GatehouseEntities.Default, TimeProvider.System);

    [Fact]
    public void Plugins_and_credentials_nest_under_their_parents()
    {
        const string yaml = """
            _format_version: "3.0"
            services:
              - name: a
                url: http://a.test
                plugins:
                  - name: rate-limiting
                    config: { minute: 10 }
                routes:
                  - name: r
                    paths: [/a]
                    plugins:
                      - name: key-auth
            consumers:
              - username: alice
                keyauth_credentials:
                  - key: k1
                acls:
                  - group: admins
                plugins:
                  - name: request-termination
            plugins:
              - name: cors
            """;
        var result = Loader.Load(yaml);
        Assert.True(result.IsValid, result.Error?.ToJson().ToJsonString());
        var plugins = result.Entities![GatehouseEntities.Default.ByName("plugins")!];
        Assert.Equal(4, plugins.Count);
        var byName = plugins.ToDictionary(p => (string)p["name"]!);
        Assert.NotNull(byName["rate-limiting"]["service"]);
        Assert.Equal("local", (string?)byName["rate-limiting"]["config"]!["policy"]);
        Assert.NotNull(byName["key-auth"]["route"]);
        Assert.NotNull(byName["request-termination"]["consumer"]);
        Assert.Null(byName["cors"]["route"]);
        var key = Assert.Single(result.Entities[KeyAuthCredentialEntity.Schema]);
        Assert.Equal("k1", (string?)key["key"]);
        Assert.Single(result.Entities[AclEntity.Schema]);
    }

    [Fact]
    public void Bad_plugin_config_is_a_declarative_error()
    {
        const string yaml = """
            _format_version: "3.0"
            plugins:
              - name: key-auth
                config: { hide_credentials: "no" }
              - name: nope
            """;
        var result = Loader.Load(yaml);
        Assert.False(result.IsValid);
        var fields = result.Error!.ToJson()["fields"]!["plugins"]!.AsArray();
        Assert.Equal("expected a boolean", (string?)fields[0]!["config"]!["hide_credentials"]);
        Assert.Equal("plugin 'nope' not enabled; add it to the 'plugins' configuration property", (string?)fields[1]!["name"]);
        Assert.Single(fields[1]!.AsObject()); // only the name is reported
    }

    [Fact]
    public void Same_plugin_twice_on_one_scope_is_a_cache_key_violation_but_other_scopes_are_fine()
    {
        const string yaml = """
            _format_version: "3.0"
            services:
              - name: a
                url: http://a.test
                plugins:
                  - name: cors
                routes:
                  - name: r
                    paths: [/a]
                    plugins:
                      - name: cors
                      - name: cors
            plugins:
              - name: cors
            """;
        var result = Loader.Load(yaml);
        Assert.False(result.IsValid);
        string[] messages = [.. result.Error!.Extra!["flattened_errors"]!.AsArray()
            .SelectMany(e => e!["errors"]!.AsArray()).Select(e => e!["message"]!.ToString())];
        var message = Assert.Single(messages);
        Assert.StartsWith("uniqueness violation: 'plugins' entity with cache_key set to 'cors:", message, StringComparison.Ordinal);
        Assert.EndsWith("::' already declared", message, StringComparison.Ordinal); // no service, no consumer

        // the same three scopes with one cors each are fine
        var valid = Loader.Load("""
            _format_version: "3.0"
            services:
              - name: a
                url: http://a.test
                plugins:
                  - name: cors
                routes:
                  - name: r
                    paths: [/a]
                    plugins:
                      - name: cors
            plugins:
              - name: cors
            """);
        Assert.True(valid.IsValid, valid.Error?.ToJson().ToJsonString());
    }
}
