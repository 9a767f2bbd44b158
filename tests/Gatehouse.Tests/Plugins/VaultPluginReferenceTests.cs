using System.Net;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Plugins;

/// <summary>A bundled plugin's referenceable field (rate-limiting's <c>redis.password</c>, as Kong's redis schema)
/// resolved from the environment when the plugin is built: a real redis-server that requires that password counts the
/// requests; the Admin API shows the reference; a reference to a variable that is not set resolves empty, as Kong, so
/// Redis refuses the plugin's connection (500 with <c>fault_tolerant = false</c>).</summary>
public sealed class VaultPluginReferenceTests
{
    [Fact]
    public async Task Redis_password_from_an_env_vault_reference_authenticates_and_is_never_shown()
    {
        using var redis = await RedisServer.StartAsync();
        var secret = "pw-" + Guid.NewGuid().ToString("N");
        Assert.Equal("+OK", await redis.CommandAsync("CONFIG", "SET", "requirepass", secret));
        var variable = "GH_VAULT_REDIS_" + Guid.NewGuid().ToString("N").ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, secret);
        try
        {
            await using var gw = await PluginGateway.StartAsync();
            await gw.ServiceAndRouteAsync("secured", "/secured");
            await gw.ServiceAndRouteAsync("unresolved", "/unresolved");
            var reference = "{vault://env/" + variable.ToLowerInvariant() + "}";
            var created = await gw.CreateAsync("/routes/secured-route/plugins", new
            {
                name = "rate-limiting",
                config = new { minute = 5, policy = "redis", fault_tolerant = false, redis = new { host = "127.0.0.1", port = redis.Port, password = reference } },
            });
            Assert.Equal(reference, (string?)created["config"]!["redis"]!["password"]);
            await gw.CreateAsync("/routes/unresolved-route/plugins", new
            {
                name = "rate-limiting",
                config = new
                {
                    minute = 5, policy = "redis", fault_tolerant = false,
                    redis = new { host = "127.0.0.1", port = redis.Port, password = "{vault://env/gh-vault-unset-" + Guid.NewGuid().ToString("N") + "}" },
                },
            });

            using var ok = await gw.Proxy.GetAsync("/secured");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("4", ok.Single("X-RateLimit-Remaining-Minute"));
            using var refused = await gw.Proxy.GetAsync("/unresolved");
            Assert.Equal(HttpStatusCode.InternalServerError, refused.StatusCode);

            var (_, listed) = await gw.GetAsync("/plugins");
            Assert.DoesNotContain(secret, listed!.ToJsonString(), StringComparison.Ordinal);
            Assert.Contains(reference, listed.ToJsonString(), StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }
}
