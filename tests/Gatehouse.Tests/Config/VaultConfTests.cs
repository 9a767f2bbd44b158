using Gatehouse.Config;

namespace Gatehouse.Tests.Config;

/// <summary>Kong's vault references where no database is involved: gatehouse.conf values (Kong's conf loader resolves
/// any key's <c>{vault://env/…}</c> at start and stops on failure), the <c>vaults</c> and <c>vault_env_prefix</c> keys,
/// and the env vault's reading of a reference (name mapping, JSON key, version, <c>?prefix=</c>).</summary>
public sealed class VaultConfTests
{
    [Fact]
    public void A_conf_value_that_is_a_reference_is_read_from_the_environment_and_the_dump_keeps_the_reference()
    {
        var loaded = GatehouseConfLoader.LoadText("pg_password = {vault://env/pg-pass}\n",
            new Dictionary<string, string?> { ["PG_PASS"] = "s3cret" });
        Assert.True(loaded.IsValid, string.Join("; ", loaded.Errors));
        Assert.Equal("s3cret", loaded.Options!.Postgres.Password);
        Assert.Equal("{vault://env/pg-pass}", loaded.Options.Raw["pg_password"]);
    }

    /// <summary>End to end: a PostgreSQL server that asks for a password gets the one the reference names, and a node
    /// started that way serves the Admin API on it.</summary>
    [Fact]
    public async Task Pg_password_from_an_env_vault_reference_reaches_a_server_that_asks_for_a_password()
    {
        await using var server = await Gatehouse.Tests.Store.Postgres.PostgresServer.StartAsync(password: "vault-pw");
        var db = (await server.CreateDatabaseAsync()).Database;
        var conf = server.ConfLines(db).Replace("pg_password = vault-pw", "pg_password = {vault://env/gh-pg-secret}", StringComparison.Ordinal);
        Assert.Contains("{vault://env/gh-pg-secret}", conf, StringComparison.Ordinal);
        var loaded = GatehouseConfLoader.LoadText(conf, new Dictionary<string, string?> { ["GH_PG_SECRET"] = "vault-pw" });
        Assert.True(loaded.IsValid, string.Join("; ", loaded.Errors));
        await using var host = await Gatehouse.Tests.Admin.AdminTestHost.StartAsync(loaded.Options!);
        Assert.Equal(201, (await host.PostAsync("/services", new { name = "s", url = "http://s.test" })).Status);
        var (_, root) = await host.GetAsync("/");
        Assert.DoesNotContain("vault-pw", root!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_reference_that_does_not_resolve_stops_the_start_naming_the_key()
    {
        var loaded = GatehouseConfLoader.LoadText("pg_password = {vault://env/pg-pass}\n", new Dictionary<string, string?>());
        Assert.False(loaded.IsValid);
        Assert.Equal("failed to dereference '{vault://env/pg-pass}': no value found (environment variable PG_PASS is not set) "
            + "for config option 'pg_password'", Assert.Single(loaded.Errors));

        var unknown = GatehouseConfLoader.LoadText("pg_password = {vault://hcv/pg-pass}\n", new Dictionary<string, string?>());
        Assert.Contains("could not find vault (hcv)", Assert.Single(unknown.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Vault_env_prefix_and_vaults_off_apply_to_conf_references()
    {
        var env = new Dictionary<string, string?> { ["SECRETS_PG_PASS"] = "prefixed", ["PG_PASS"] = "plain" };
        var prefixed = GatehouseConfLoader.LoadText("vault_env_prefix = secrets_\npg_password = {vault://env/pg-pass}\n", env);
        Assert.Equal("prefixed", prefixed.Options!.Postgres.Password);
        Assert.Equal("secrets_", prefixed.Options.VaultEnvPrefix);

        var off = GatehouseConfLoader.LoadText("vaults = off\npg_password = {vault://env/pg-pass}\n", env);
        Assert.Contains("could not find vault (env)", Assert.Single(off.Errors), StringComparison.Ordinal);
        Assert.True(GatehouseConfLoader.LoadText("vaults = bundled\n", env).Options!.EnvVaultLoaded);
        Assert.False(GatehouseConfLoader.LoadText("vaults = off\n", env).Options!.EnvVaultLoaded);
        Assert.Equal("vaults: vault 'hcv' is not installed (Gatehouse bundles the env vault only)",
            Assert.Single(GatehouseConfLoader.LoadText("vaults = bundled,hcv\n", env).Errors));
    }

    /// <summary>With <c>vaults = off</c> the node has no env vault: a vault entity naming it is refused as every strategy
    /// the node does not load (Kong's "vault 'env' is not installed"), on a real node's Admin API.</summary>
    [Fact]
    public async Task With_vaults_off_a_vault_entity_naming_env_is_refused()
    {
        using var dir = new Gatehouse.Tests.Store.TempDir();
        foreach (var (loaded, expected) in new[] { (false, 400), (true, 201) })
        {
            await using var host = Gatehouse.Hosting.GatewayHost.Create(new GatehouseOptions
            {
                Prefix = dir.Path,
                ProxyListen = [ListenAddress.Parse("127.0.0.1:0")],
                AdminListen = [ListenAddress.Parse("127.0.0.1:0")],
                Database = DatabaseKind.Off,
                EnvVaultLoaded = loaded,
                ProxyAccessLog = null,
            }, new Gatehouse.Hosting.GatewayHostOptions());
            await host.StartAsync();
            using var admin = new HttpClient { BaseAddress = host.Addresses(Gatehouse.Proxy.ListenerKind.Admin)[0] };
            var (status, body) = await Gatehouse.Tests.Infrastructure.AdminCalls.SendAsync(admin, HttpMethod.Post, "/config",
                new System.Text.Json.Nodes.JsonObject { ["config"] = "_format_version: '3.0'\nvaults:\n- prefix: my-env\n  name: env\n" });
            Assert.True(status == expected, $"{status} {body}");
            if (!loaded) Assert.Contains("vault 'env' is not installed", System.Text.RegularExpressions.Regex.Unescape(body!.ToJsonString()), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("{vault://env/db-pass}", "DB_PASS")]
    [InlineData("{vault://env/db-pass#2}", "DB_PASS_PREVIOUS")]
    [InlineData("{vault://env/db-pass?prefix=app-}", "APP_DB_PASS")]
    [InlineData("{vault://app-env/db-pass}", "MYAPP_DB_PASS")]
    [InlineData("{vault://env/creds/user}", "CREDS")] // the last segment is a key of the variable's JSON
    [InlineData("{vault://env/dir/name/}", "DIR/NAME")] // a trailing slash keeps the whole path as the name
    public void The_env_vault_reads_the_variable_Kong_reads(string reference, string variable)
    {
        var read = new List<string>();
        var resolver = new VaultResolver(name => { read.Add(name); return name == "CREDS" ? "{\"user\":\"u1\"}" : "v"; })
            .WithNamed([new NamedVault("app-env", "env", "myapp_")]);
        Assert.True(resolver.TryResolve(reference, out var value, out var error), error);
        Assert.Equal(variable, Assert.Single(read));
        Assert.Equal(variable == "CREDS" ? "u1" : "v", value);
    }

    [Theory]
    [InlineData("{vault://env/creds/missing}", "subfield missing not found in JSON secret")]
    [InlineData("{vault://env/plain/key}", "unable to json decode value of PLAIN")]
    [InlineData("{vault://env}", "could not parse reference {vault://env} (reference url is missing path [{vault://env}])")]
    [InlineData("{vault://env/x#v1}", "could not parse reference {vault://env/x#v1} (reference url has invalid version [{vault://env/x#v1}])")]
    [InlineData("{vault://other/x}", "could not find vault (other)")]
    public void A_reference_that_cannot_be_read_says_why(string reference, string expected)
    {
        var resolver = new VaultResolver(name => name switch { "CREDS" => "{\"user\":\"u1\"}", "PLAIN" => "not json", _ => null });
        Assert.False(resolver.TryResolve(reference, out _, out var error));
        Assert.Equal(expected, error);
    }
}
