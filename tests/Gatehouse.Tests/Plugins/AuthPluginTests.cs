using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Plugins;

/// <summary>key-auth, basic-auth and acl through the real proxy, configured through the Admin API.</summary>
public sealed class AuthPluginTests : IAsyncLifetime
{
    private PluginGateway _gw = null!;
    private string _consumerId = "";
    private string _keyId = "";

    public async Task InitializeAsync()
    {
        _gw = await PluginGateway.StartAsync();
        await _gw.ServiceAndRouteAsync("svc", "/api");
        _consumerId = (string)(await _gw.CreateAsync("/consumers", new { username = "alice", custom_id = "c-1" }))["id"]!;
        _keyId = (string)(await _gw.CreateAsync("/consumers/alice/key-auth", new { key = "secret-key" }))["id"]!;
    }

    public async Task DisposeAsync() => await _gw.DisposeAsync();

    private async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> SendAsync(string path, Action<HttpRequestMessage>? setup = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        setup?.Invoke(request);
        var response = await _gw.Proxy.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    [Fact]
    public async Task Key_auth_rejects_missing_and_wrong_keys_and_identifies_the_consumer()
    {
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "key-auth" });

        var (s1, b1, r1) = await SendAsync("/api");
        Assert.Equal(HttpStatusCode.Unauthorized, s1);
        Assert.Equal("No API key found in request", (string?)JsonNode.Parse(b1)!["message"]);
        Assert.Equal("Key realm=\"kong\"", r1.Single("WWW-Authenticate"));

        var (s2, b2, _) = await SendAsync("/api", r => r.Headers.Add("apikey", "wrong"));
        Assert.Equal(HttpStatusCode.Unauthorized, s2);
        Assert.Equal("Invalid authentication credentials", (string?)JsonNode.Parse(b2)!["message"]);

        var (s3, _, r3) = await SendAsync("/api", r => r.Headers.Add("apikey", "secret-key"));
        Assert.Equal(HttpStatusCode.OK, s3);
        var echo = await r3.EchoAsync();
        Assert.Equal(_consumerId, echo.Header("X-Consumer-ID"));
        Assert.Equal("alice", echo.Header("X-Consumer-Username"));
        Assert.Equal("c-1", echo.Header("X-Consumer-Custom-ID"));
        Assert.Equal(_keyId, echo.Header("X-Credential-Identifier"));
        Assert.Equal("secret-key", echo.Header("apikey"));

        var (s4, _, r4) = await SendAsync("/api?apikey=secret-key");
        Assert.Equal(HttpStatusCode.OK, s4);
        Assert.Equal(_consumerId, (await r4.EchoAsync()).Header("X-Consumer-ID"));
    }

    [Fact]
    public async Task Key_auth_hide_credentials_strips_the_key()
    {
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "key-auth", config = new { hide_credentials = true, key_names = new[] { "x-key" } } });
        var (s, _, r) = await SendAsync("/api?x-key=secret-key&keep=1");
        Assert.Equal(HttpStatusCode.OK, s);
        var echo = await r.EchoAsync();
        Assert.DoesNotContain("x-key", echo.Query, StringComparison.Ordinal);
        Assert.Contains("keep=1", echo.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Basic_auth_checks_the_hashed_password()
    {
        await _gw.CreateAsync("/consumers/alice/basic-auth", new { username = "al", password = "pw" });
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "basic-auth" });
        static string Basic(string user, string pw) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{pw}"));

        var (s1, b1, r1) = await SendAsync("/api");
        Assert.Equal(HttpStatusCode.Unauthorized, s1);
        Assert.Equal("Unauthorized", (string?)JsonNode.Parse(b1)!["message"]);
        Assert.Equal("Basic realm=\"service\"", r1.Single("WWW-Authenticate"));
        var (s2, b2, _) = await SendAsync("/api", r => r.Headers.TryAddWithoutValidation("Authorization", Basic("al", "bad")));
        Assert.Equal(HttpStatusCode.Unauthorized, s2);
        Assert.Equal("Invalid authentication credentials", (string?)JsonNode.Parse(b2)!["message"]);
        var (s3, _, r3) = await SendAsync("/api", r => r.Headers.TryAddWithoutValidation("Authorization", Basic("al", "pw")));
        Assert.Equal(HttpStatusCode.OK, s3);
        var echo = await r3.EchoAsync();
        Assert.Equal("alice", echo.Header("X-Consumer-Username"));
        Assert.Equal("al", echo.Header("X-Credential-Identifier"));
    }

    [Fact]
    public async Task Acl_after_key_auth_allows_members_only()
    {
        await _gw.CreateAsync("/consumers", new { username = "bob" });
        await _gw.CreateAsync("/consumers/bob/key-auth", new { key = "bob-key" });
        await _gw.CreateAsync("/consumers/alice/acls", new { group = "admins" });
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "key-auth" });
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "acl", config = new { allow = new[] { "admins" } } });

        var (s1, _, r1) = await SendAsync("/api", r => r.Headers.Add("apikey", "secret-key"));
        Assert.Equal(HttpStatusCode.OK, s1);
        Assert.Equal("admins", (await r1.EchoAsync()).Header("X-Consumer-Groups"));
        var (s2, b2, _) = await SendAsync("/api", r => r.Headers.Add("apikey", "bob-key"));
        Assert.Equal(HttpStatusCode.Forbidden, s2);
        Assert.Equal("You cannot consume this service", (string?)JsonNode.Parse(b2)!["message"]);
    }

    [Fact]
    public async Task Consumer_scoped_rate_limit_overrides_the_route_one_once_key_auth_identified_the_consumer()
    {
        await _gw.CreateAsync("/consumers", new { username = "bob" });
        await _gw.CreateAsync("/consumers/bob/key-auth", new { key = "bob-key" });
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "key-auth" });
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "rate-limiting", config = new { hour = 1 } });
        await _gw.CreateAsync("/consumers/alice/plugins", new { name = "rate-limiting", config = new { hour = 5 } });

        var (s1, _, r1) = await SendAsync("/api", r => r.Headers.Add("apikey", "secret-key"));
        Assert.Equal(HttpStatusCode.OK, s1);
        Assert.Equal("5", r1.Single("X-RateLimit-Limit-Hour"));
        var (s2, _, r2) = await SendAsync("/api", r => r.Headers.Add("apikey", "bob-key"));
        Assert.Equal(HttpStatusCode.OK, s2);
        Assert.Equal("1", r2.Single("X-RateLimit-Limit-Hour"));
        var (s3, _, _) = await SendAsync("/api", r => r.Headers.Add("apikey", "bob-key"));
        Assert.Equal((HttpStatusCode)429, s3); // counted per consumer: bob is out, alice is not
        var (s4, _, r4) = await SendAsync("/api", r => r.Headers.Add("apikey", "secret-key"));
        Assert.Equal(HttpStatusCode.OK, s4);
        Assert.Equal("3", r4.Single("X-RateLimit-Remaining-Hour"));
    }

    [Fact]
    public async Task Key_auth_reads_the_key_from_a_form_body_when_enabled_and_the_upstream_still_gets_the_body()
    {
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "key-auth", config = new { key_in_body = true } });
        using var form = new FormUrlEncodedContent([new("apikey", "secret-key"), new("other", "1")]);
        using var response = await _gw.Proxy.PostAsync("/api", form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echo = await response.EchoAsync();
        Assert.Equal(_consumerId, echo.Header("X-Consumer-ID"));
        Assert.Equal("apikey=secret-key&other=1", echo.Body);
        using var wrong = await _gw.Proxy.PostAsync("/api", new FormUrlEncodedContent([new("apikey", "nope")]));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }
}
