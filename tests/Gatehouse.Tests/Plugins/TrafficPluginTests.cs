using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Plugins;

/// <summary>rate-limiting, cors, request-termination, correlation-id, transformers, ip-restriction and
/// request-size-limiting through the real proxy.</summary>
public sealed class TrafficPluginTests : IAsyncLifetime
{
    private PluginGateway _gw = null!;

    public async Task InitializeAsync()
    {
        _gw = await PluginGateway.StartAsync();
        await _gw.ServiceAndRouteAsync("svc", "/api");
    }

    public async Task DisposeAsync() => await _gw.DisposeAsync();

    [Fact]
    public async Task Rate_limiting_counts_down_and_answers_429_at_the_limit()
    {
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "rate-limiting", config = new { hour = 3, limit_by = "ip" } });
        for (var i = 1; i <= 3; i++)
        {
            using var ok = await _gw.Proxy.GetAsync("/api");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("3", ok.Single("X-RateLimit-Limit-Hour"));
            Assert.Equal((3 - i).ToString(System.Globalization.CultureInfo.InvariantCulture), ok.Single("X-RateLimit-Remaining-Hour"));
            Assert.Equal("3", ok.Single("RateLimit-Limit"));
            Assert.Equal((3 - i).ToString(System.Globalization.CultureInfo.InvariantCulture), ok.Single("RateLimit-Remaining"));
            Assert.True(int.Parse(ok.Single("RateLimit-Reset")!, System.Globalization.CultureInfo.InvariantCulture) is > 0 and <= 3600);
        }
        using var limited = await _gw.Proxy.GetAsync("/api");
        Assert.Equal((HttpStatusCode)429, limited.StatusCode);
        Assert.Equal("API rate limit exceeded", (string?)JsonNode.Parse(await limited.Content.ReadAsStringAsync())!["message"]);
        Assert.Equal("0", limited.Single("X-RateLimit-Remaining-Hour"));
        Assert.NotNull(limited.Single("Retry-After"));
    }

    [Fact]
    public async Task Cors_answers_preflight_and_decorates_responses()
    {
        await _gw.CreateAsync("/routes/svc-route/plugins", new
        {
            name = "cors", config = new { origins = new[] { "http://a.test" }, methods = new[] { "GET", "POST" }, max_age = 60, credentials = true },
        });
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/api");
        preflight.Headers.Add("Origin", "http://a.test");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "X-Custom");
        using var pre = await _gw.Proxy.SendAsync(preflight);
        Assert.Equal(HttpStatusCode.OK, pre.StatusCode);
        Assert.Equal("http://a.test", pre.Single("Access-Control-Allow-Origin"));
        Assert.Equal("GET,POST", pre.Single("Access-Control-Allow-Methods"));
        Assert.Equal("X-Custom", pre.Single("Access-Control-Allow-Headers"));
        Assert.Equal("60", pre.Single("Access-Control-Max-Age"));
        Assert.Equal("true", pre.Single("Access-Control-Allow-Credentials"));
        Assert.Equal("", await pre.Content.ReadAsStringAsync()); // answered by the gateway, not the echo

        using var get = new HttpRequestMessage(HttpMethod.Get, "/api");
        get.Headers.Add("Origin", "http://other.test");
        using var other = await _gw.Proxy.SendAsync(get);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Null(other.Single("Access-Control-Allow-Origin"));
        Assert.Equal("Origin", other.Single("Vary"));
    }

    [Fact]
    public async Task Cors_private_network_answers_only_preflights_that_ask_for_it()
    {
        await _gw.CreateAsync("/services/svc/routes", new { name = "pna", paths = new[] { "/pna" } });
        await _gw.CreateAsync("/routes/pna/plugins", new { name = "cors", config = new { private_network = true } });
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "cors" }); // private_network defaults to false

        async Task<HttpResponseMessage> PreflightAsync(string path, bool askPrivateNetwork)
        {
            using var request = new HttpRequestMessage(HttpMethod.Options, path);
            request.Headers.Add("Origin", "http://a.test");
            request.Headers.Add("Access-Control-Request-Method", "GET");
            if (askPrivateNetwork) request.Headers.Add("Access-Control-Request-Private-Network", "true");
            return await _gw.Proxy.SendAsync(request);
        }

        using (var asked = await PreflightAsync("/pna", askPrivateNetwork: true))
        {
            Assert.Equal(HttpStatusCode.OK, asked.StatusCode);
            Assert.Equal("true", asked.Single("Access-Control-Allow-Private-Network"));
        }
        using (var notAsked = await PreflightAsync("/pna", askPrivateNetwork: false))
            Assert.Null(notAsked.Single("Access-Control-Allow-Private-Network"));
        using (var off = await PreflightAsync("/api", askPrivateNetwork: true))
        {
            Assert.Equal(HttpStatusCode.OK, off.StatusCode);
            Assert.Null(off.Single("Access-Control-Allow-Private-Network"));
        }

        // Kong: without Origin an OPTIONS request is not a preflight; it goes to the upstream.
        using var noOrigin = new HttpRequestMessage(HttpMethod.Options, "/pna");
        noOrigin.Headers.Add("Access-Control-Request-Method", "GET");
        using var proxied = await _gw.Proxy.SendAsync(noOrigin);
        Assert.Equal("OPTIONS", (await proxied.EchoAsync()).Method);
    }

    [Fact]
    public async Task Request_termination_message_and_echo()
    {
        var plugin = await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "request-termination", config = new { status_code = 418, message = "go away" } });
        using var teapot = await _gw.Proxy.GetAsync("/api");
        Assert.Equal((HttpStatusCode)418, teapot.StatusCode);
        Assert.Equal("go away", (string?)JsonNode.Parse(await teapot.Content.ReadAsStringAsync())!["message"]);

        var (status, _) = await _gw.SendAsync(HttpMethod.Patch, $"/plugins/{plugin["id"]}", new { config = new { status_code = 200, echo = true } });
        Assert.Equal(200, status);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/x?q=1") { Content = new StringContent("{\"a\":1}", System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Test", "yes");
        using var echoed = await _gw.Proxy.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, echoed.StatusCode);
        var body = JsonNode.Parse(await echoed.Content.ReadAsStringAsync())!;
        Assert.Equal("POST", (string?)body["request"]!["method"]);
        Assert.Equal("/api/x", (string?)body["request"]!["path"]);
        Assert.Equal("1", (string?)body["request"]!["query"]!["q"]);
        Assert.Equal("yes", (string?)body["request"]!["headers"]!["x-test"]);
        Assert.Equal(1, (int)body["request"]!["body"]!["a"]!);
        Assert.Equal("svc-route", (string?)body["matched_route"]!["name"]);
    }

    [Fact]
    public async Task Correlation_id_and_transformers_change_headers_both_ways()
    {
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "correlation-id", config = new { echo_downstream = true } });
        await _gw.CreateAsync("/routes/svc-route/plugins", new
        {
            name = "request-transformer",
            config = new { add = new { headers = new[] { "X-Added:1" }, querystring = new[] { "extra:2" } }, remove = new { headers = new[] { "X-Drop" } } },
        });
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "response-transformer", config = new { add = new { headers = new[] { "X-Resp:ok" } } } });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api");
        request.Headers.Add("X-Drop", "x");
        using var response = await _gw.Proxy.SendAsync(request);
        var echo = await response.EchoAsync();
        Assert.Equal("1", echo.Header("X-Added"));
        Assert.Null(echo.Header("X-Drop"));
        Assert.Contains("extra=2", echo.Query, StringComparison.Ordinal);
        var id = echo.Header("Kong-Request-ID");
        Assert.False(string.IsNullOrEmpty(id));
        Assert.Equal(id, response.Single("Kong-Request-ID"));
        Assert.Equal("ok", response.Single("X-Resp"));
    }

    [Fact]
    public async Task Ip_restriction_and_request_size_limiting_refuse()
    {
        var ip = await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "ip-restriction", config = new { deny = new[] { "127.0.0.0/8" } } });
        using var denied = await _gw.Proxy.GetAsync("/api");
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal("Your IP address is not allowed", (string?)JsonNode.Parse(await denied.Content.ReadAsStringAsync())!["message"]);
        await _gw.SendAsync(HttpMethod.Delete, $"/plugins/{ip["id"]}");

        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "request-size-limiting", config = new { allowed_payload_size = 10, size_unit = "bytes" } });
        using var big = await _gw.Proxy.PostAsync("/api", new StringContent(new string('x', 11)));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);
        Assert.Equal("Request size limit exceeded", (string?)JsonNode.Parse(await big.Content.ReadAsStringAsync())!["message"]);
        using var small = await _gw.Proxy.PostAsync("/api", new StringContent(new string('x', 10)));
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
    }

    [Fact]
    public async Task Patch_merges_config_and_protocols_filter_the_instance()
    {
        var plugin = await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "request-termination", config = new { status_code = 418, message = "tea" } });
        var (status, patched) = await _gw.SendAsync(HttpMethod.Patch, $"/plugins/{plugin["id"]}", new { config = new { status_code = 410 } });
        Assert.Equal(200, status);
        Assert.Equal("tea", (string?)patched!["config"]!["message"]); // merged, as Kong's PATCH does
        using var gone = await _gw.Proxy.GetAsync("/api");
        Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);

        Assert.Equal(200, (await _gw.SendAsync(HttpMethod.Patch, $"/plugins/{plugin["id"]}", new { protocols = new[] { "https" } })).Status);
        using var plain = await _gw.Proxy.GetAsync("/api"); // http request: the https-only instance does not run
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
    }

    [Fact]
    public async Task Response_transformer_rewrites_json_bodies()
    {
        await _gw.CreateAsync("/routes/svc-route/plugins", new
        {
            name = "response-transformer",
            config = new { remove = new { json = new[] { "headers" } }, add = new { json = new[] { "added:yes" } }, rename = new { json = new[] { "method:verb" } } },
        });
        using var response = await _gw.Proxy.GetAsync("/api/j");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.False(body.ContainsKey("headers"));
        Assert.False(body.ContainsKey("method"));
        Assert.Equal("GET", (string?)body["verb"]);
        Assert.Equal("yes", (string?)body["added"]);
        Assert.Equal("/j", (string?)body["path"]);
    }
}
