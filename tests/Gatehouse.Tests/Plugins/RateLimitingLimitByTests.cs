using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Plugins;

/// <summary>rate-limiting's <c>limit_by</c> identities as Kong's <c>get_identifier</c>: who shares a counter, and the
/// fallback to the client address when the identity is missing; the schema refuses what Kong 3.9 refuses.</summary>
public sealed class RateLimitingLimitByTests : IAsyncLifetime
{
    private PluginGateway _gw = null!;

    public async Task InitializeAsync()
    {
        _gw = await PluginGateway.StartAsync();
        await _gw.ServiceAndRouteAsync("svc", "/api");
    }

    public async Task DisposeAsync() => await _gw.DisposeAsync();

    private async Task<string?> RemainingAsync(string path, Action<HttpRequestMessage>? setup = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        setup?.Invoke(request);
        using var response = await _gw.Proxy.SendAsync(request);
        return response.Single("X-RateLimit-Remaining-Minute");
    }

    [Fact]
    public async Task Limit_by_path_counts_config_path_once_and_every_other_path_by_address()
    {
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "rate-limiting", config = new { minute = 2, limit_by = "path", path = "/api/a" } });
        Assert.Equal("1", await RemainingAsync("/api/b"));
        // Kong: a path other than config.path is counted by client address, so /api/c shares /api/b's counter.
        Assert.Equal("0", await RemainingAsync("/api/c"));
        Assert.Equal("1", await RemainingAsync("/api/a"));
        Assert.Equal("0", await RemainingAsync("/api/a"));
    }

    [Fact]
    public async Task Limit_by_path_needs_a_path_and_consumer_group_is_not_a_kong_39_value()
    {
        var (s1, b1) = await _gw.PostAsync("/plugins", new { name = "rate-limiting", config = new { minute = 1, limit_by = "path" } });
        Assert.Equal(400, s1);
        Assert.Equal("required field missing", (string?)b1!["fields"]!["config"]!["path"]);

        var (s2, b2) = await _gw.PostAsync("/plugins", new { name = "rate-limiting", config = new { minute = 1, limit_by = "header" } });
        Assert.Equal(400, s2);
        Assert.Equal("required field missing", (string?)b2!["fields"]!["config"]!["header_name"]);

        var (s3, b3) = await _gw.PostAsync("/plugins", new { name = "rate-limiting", config = new { minute = 1, limit_by = "consumer-group" } });
        Assert.Equal(400, s3);
        Assert.Equal("expected one of: consumer, credential, ip, service, header, path", (string?)b3!["fields"]!["config"]!["limit_by"]);

        var (s4, b4) = await _gw.PostAsync("/plugins", new { name = "rate-limiting", config = new { minute = 1, limit_by = "path", path = "no-slash" } });
        Assert.Equal(400, s4);
        Assert.NotNull(b4!["fields"]!["config"]!["path"]);
    }

    [Fact]
    public async Task Limit_by_header_counts_per_value_and_falls_back_to_the_address()
    {
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "rate-limiting", config = new { minute = 2, limit_by = "header", header_name = "X-Team" } });
        Assert.Equal("1", await RemainingAsync("/api", r => r.Headers.Add("X-Team", "a")));
        Assert.Equal("1", await RemainingAsync("/api", r => r.Headers.Add("X-Team", "b")));
        Assert.Equal("1", await RemainingAsync("/api"));
        Assert.Equal("0", await RemainingAsync("/api"));
        Assert.Equal("0", await RemainingAsync("/api", r => r.Headers.Add("X-Team", "a")));
    }

    [Fact]
    public async Task Limit_by_consumer_and_credential_and_service()
    {
        await _gw.CreateAsync("/consumers", new { username = "alice" });
        await _gw.CreateAsync("/consumers/alice/key-auth", new { key = "k1" });
        await _gw.CreateAsync("/consumers/alice/key-auth", new { key = "k2" });
        await _gw.CreateAsync("/services/svc/routes", new { name = "cred", paths = new[] { "/cred" } });
        await _gw.CreateAsync("/services/svc/routes", new { name = "cons", paths = new[] { "/cons" } });
        await _gw.CreateAsync("/routes/cred/plugins", new { name = "key-auth" });
        await _gw.CreateAsync("/routes/cons/plugins", new { name = "key-auth" });
        await _gw.CreateAsync("/routes/cred/plugins", new { name = "rate-limiting", config = new { minute = 2, limit_by = "credential" } });
        await _gw.CreateAsync("/routes/cons/plugins", new { name = "rate-limiting", config = new { minute = 2, limit_by = "consumer" } });
        await _gw.CreateAsync("/services/svc/plugins", new { name = "rate-limiting", config = new { hour = 5, limit_by = "service" } });

        // credential: each key its own counter.
        Assert.Equal("1", await RemainingAsync("/cred", r => r.Headers.Add("apikey", "k1")));
        Assert.Equal("1", await RemainingAsync("/cred", r => r.Headers.Add("apikey", "k2")));
        Assert.Equal("0", await RemainingAsync("/cred", r => r.Headers.Add("apikey", "k1")));
        // consumer: both keys of alice share one.
        Assert.Equal("1", await RemainingAsync("/cons", r => r.Headers.Add("apikey", "k1")));
        Assert.Equal("0", await RemainingAsync("/cons", r => r.Headers.Add("apikey", "k2")));

        // service: every route of the service shares one counter (the route-level instances above do not apply on /api).
        using var response = await _gw.Proxy.GetAsync("/api");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("4", response.Single("X-RateLimit-Remaining-Hour"));
        using var second = await _gw.Proxy.GetAsync("/api/x");
        Assert.Equal("3", second.Single("X-RateLimit-Remaining-Hour"));
    }

    [Fact]
    public async Task Limit_by_consumer_without_a_consumer_counts_the_address()
    {
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "rate-limiting", config = new { minute = 2, limit_by = "consumer" } });
        Assert.Equal("1", await RemainingAsync("/api"));
        Assert.Equal("0", await RemainingAsync("/api/other"));
        using var limited = await _gw.Proxy.GetAsync("/api");
        Assert.Equal((HttpStatusCode)429, limited.StatusCode);
        Assert.Equal("API rate limit exceeded", (string?)JsonNode.Parse(await limited.Content.ReadAsStringAsync())!["message"]);
    }
}
