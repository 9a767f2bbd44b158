using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Plugins;
using Gatehouse.Plugins.Bundled;
using Gatehouse.Plugins.Bundled.Acl;
using Gatehouse.Proxy.Pipeline;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Plugins;

/// <summary>acl with authenticated groups (Kong's <c>kong.ctx.shared.authenticated_groups</c>, set here by a test
/// auth plugin between key-auth and acl): used for anonymous consumers, ignored for credentialed consumers unless
/// <c>always_use_authenticated_groups</c>; Kong's 401/403 for consumers without acls.</summary>
public sealed class AclAuthenticatedGroupsTests : IAsyncLifetime
{
    private PluginGateway _gw = null!;

    public async Task InitializeAsync()
    {
        _gw = await PluginGateway.StartAsync(s => s.AddSingleton(new PluginCatalog([.. BundledPlugins.Create(), new AuthenticatedGroupsPlugin()])));
        await _gw.ServiceAndRouteAsync("svc", "/api");
        await _gw.CreateAsync("/consumers", new { username = "alice" });
        await _gw.CreateAsync("/consumers/alice/key-auth", new { key = "alice-key" });
        await _gw.CreateAsync("/consumers/alice/acls", new { group = "users" });
        await _gw.CreateAsync("/consumers", new { username = "anon" }); // no acls
    }

    public async Task DisposeAsync() => await _gw.DisposeAsync();

    private async Task RouteAsync(string name, bool always, bool groups = true)
    {
        await _gw.CreateAsync("/services/svc/routes", new { name, paths = new[] { "/" + name } });
        await _gw.CreateAsync($"/routes/{name}/plugins", new { name = "key-auth", config = new { anonymous = "anon" } });
        if (groups) await _gw.CreateAsync($"/routes/{name}/plugins", new { name = "authenticated-groups", config = new { groups = new[] { "admins", "ops" } } });
        await _gw.CreateAsync($"/routes/{name}/plugins", new { name = "acl", config = new { allow = new[] { "admins" }, always_use_authenticated_groups = always } });
    }

    private async Task<(HttpStatusCode Status, EchoResponse? Echo)> GetAsync(string path, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null) request.Headers.Add("apikey", key);
        using var response = await _gw.Proxy.SendAsync(request);
        return (response.StatusCode, response.StatusCode == HttpStatusCode.OK ? await response.EchoAsync() : null);
    }

    [Fact]
    public async Task A_credentialed_consumer_uses_its_acls_unless_always_use_authenticated_groups()
    {
        await RouteAsync("default", always: false);
        await RouteAsync("always", always: true);

        var (s1, _) = await GetAsync("/default", "alice-key");
        Assert.Equal(HttpStatusCode.Forbidden, s1); // alice's acls: users only

        var (s2, echo) = await GetAsync("/always", "alice-key");
        Assert.Equal(HttpStatusCode.OK, s2);
        Assert.Equal("admins, ops", echo!.Header("X-Authenticated-Groups"));
        Assert.Null(echo.Header("X-Consumer-Groups"));
    }

    [Fact]
    public async Task The_anonymous_consumer_uses_the_authenticated_groups()
    {
        await RouteAsync("anon", always: false);
        var (status, echo) = await GetAsync("/anon", null);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("anon", echo!.Header("X-Consumer-Username"));
        Assert.Equal("admins, ops", echo.Header("X-Authenticated-Groups"));
    }

    [Fact]
    public async Task A_consumer_without_acls_is_401_when_anonymous_and_403_with_a_credential()
    {
        await RouteAsync("plain", always: true, groups: false);
        await _gw.CreateAsync("/consumers", new { username = "carol" });
        await _gw.CreateAsync("/consumers/carol/key-auth", new { key = "carol-key" });
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync("/plain", null)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync("/plain", "carol-key")).Status);
        // always_use_authenticated_groups without authenticated groups falls back to the consumer's acls.
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync("/plain", "alice-key")).Status);
    }

    [Fact]
    public async Task Include_consumer_groups_is_not_a_kong_39_field()
    {
        var (status, body) = await _gw.PostAsync("/plugins", new { name = "acl", config = new { allow = new[] { "a" }, include_consumer_groups = true } });
        Assert.Equal(400, status);
        Assert.Equal("unknown field", (string?)body!["fields"]!["config"]!["include_consumer_groups"]);
    }

    /// <summary>Plays an auth plugin that authenticates groups (Kong's ldap-auth/oauth2 style): puts
    /// <c>config.groups</c> into <c>kong.ctx.shared.authenticated_groups</c>. Runs after key-auth, before acl.</summary>
    private sealed class AuthenticatedGroupsPlugin : GatehousePlugin
    {
        public override string Name => "authenticated-groups";
        public override int Priority => 1000;
        public override IReadOnlyList<FieldDefinition> ConfigFields { get; } = [PluginFields.Strings("groups")];

        public override PluginHandler Create(JsonObject config, PluginBuildContext context) => new Handler([.. ConfigRead.Strings(config, "groups")]);

        private sealed class Handler(string[] groups) : PluginHandler
        {
            public override ValueTask<PhaseOutcome> AccessAsync(Kong kong)
            {
                kong.Ctx[AclPlugin.AuthenticatedGroupsKey] = groups;
                return ValueTask.FromResult(PhaseOutcome.Continue);
            }
        }
    }
}
