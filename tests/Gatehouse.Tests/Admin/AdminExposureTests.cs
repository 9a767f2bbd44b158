using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Tests.Plugins;

namespace Gatehouse.Tests.Admin;

/// <summary>
/// Issue 10 #13: the Admin API is not writable from a web page (CORS off unless admin_gui_url/admin_gui_origin, foreign
/// origins refused), not reachable through DNS rebinding (Host checked on the Admin and status listeners), and can
/// require admin_token. Real gateway, real sockets, SQLite store.
/// </summary>
public sealed class AdminExposureTests
{
    private const string Evil = "http://evil.example";
    private const string Manager = "http://manager.test:8002";

    private static Task<PluginGateway> StartAsync(Func<GatehouseOptions, GatehouseOptions>? configure = null) =>
        PluginGateway.StartAsync(configure: configure);

    private static HttpRequestMessage Request(HttpMethod method, string path, string? origin = null, string? host = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (origin is not null) request.Headers.TryAddWithoutValidation("Origin", origin);
        if (host is not null) request.Headers.Host = host;
        return request;
    }

    private static HttpRequestMessage FormPost(string path, string origin) => new(HttpMethod.Post, path)
    {
        Headers = { { "Origin", origin } },
        Content = new FormUrlEncodedContent([new("name", "planted"), new("url", "http://127.0.0.1:9")]),
    };

    private static HttpRequestMessage Preflight(string path, string origin, string method = "POST", string? headers = "content-type")
    {
        var request = Request(HttpMethod.Options, path, origin);
        request.Headers.TryAddWithoutValidation("Access-Control-Request-Method", method);
        if (headers is not null) request.Headers.TryAddWithoutValidation("Access-Control-Request-Headers", headers);
        return request;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var v) ? string.Join(", ", v)
        : response.Content.Headers.TryGetValues(name, out var c) ? string.Join(", ", c) : null;

    private static async Task<JsonNode> JsonAsync(HttpResponseMessage response)
    {
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString());
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    [Fact]
    public async Task CorsIsOffByDefaultAndACrossSiteFormPostWritesNothing()
    {
        await using var gateway = await StartAsync();
        using (var preflight = await gateway.Admin.SendAsync(Preflight("/services", Evil)))
        {
            Assert.Null(Header(preflight, "Access-Control-Allow-Origin"));
            Assert.Null(Header(preflight, "Access-Control-Allow-Credentials"));
        }
        // a form POST is a "simple" request: browsers send it cross-site without a preflight
        using (var post = await gateway.Admin.SendAsync(FormPost("/services", Evil)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
            Assert.Null(Header(post, "Access-Control-Allow-Origin"));
            Assert.Equal("Origin not allowed (see admin_gui_url)", (string?)(await JsonAsync(post))["message"]);
        }
        using (var nullOrigin = await gateway.Admin.SendAsync(FormPost("/services", "null")))
            Assert.Equal(HttpStatusCode.Forbidden, nullOrigin.StatusCode);
        var (_, services) = await gateway.GetAsync("/services");
        Assert.Empty(services!["data"]!.AsArray());
        // non-browser clients (no Origin) and same-origin pages are unaffected
        using (var plain = await gateway.Admin.GetAsync("/services")) Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        var self = gateway.Admin.BaseAddress!.GetLeftPart(UriPartial.Authority);
        using (var same = await gateway.Admin.SendAsync(FormPost("/services", self)))
            Assert.Equal(HttpStatusCode.Created, same.StatusCode);
    }

    [Fact]
    public async Task CorsAnswersOnlyTheAdminGuiOrigins()
    {
        await using var gateway = await StartAsync(o => o with
        {
            AdminGuiUrl = [new Uri(Manager + "/manager")],
            AdminGuiOrigin = ["https://other-gui.test"],
        });
        using (var preflight = await gateway.Admin.SendAsync(Preflight("/services", Manager, headers: "content-type, kong-admin-token")))
        {
            Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
            Assert.Equal(Manager, Header(preflight, "Access-Control-Allow-Origin"));
            Assert.Equal("true", Header(preflight, "Access-Control-Allow-Credentials"));
            Assert.Contains("POST", Header(preflight, "Access-Control-Allow-Methods")!);
            Assert.Contains("DELETE", Header(preflight, "Access-Control-Allow-Methods")!);
            Assert.Equal("content-type, kong-admin-token", Header(preflight, "Access-Control-Allow-Headers"));
            Assert.Contains("Origin", Header(preflight, "Vary")!);
        }
        using (var second = await gateway.Admin.SendAsync(Preflight("/config", "https://other-gui.test", "PUT", headers: null)))
        {
            Assert.Equal(HttpStatusCode.NoContent, second.StatusCode);
            Assert.Equal("https://other-gui.test", Header(second, "Access-Control-Allow-Origin"));
        }
        using (var post = await gateway.Admin.SendAsync(FormPost("/services", Manager)))
        {
            Assert.Equal(HttpStatusCode.Created, post.StatusCode);
            Assert.Equal(Manager, Header(post, "Access-Control-Allow-Origin"));
            Assert.Equal("Origin", Header(post, "Vary"));
        }
        using (var foreign = await gateway.Admin.SendAsync(Preflight("/services", Evil)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
            Assert.Null(Header(foreign, "Access-Control-Allow-Origin"));
            Assert.Equal("Origin", Header(foreign, "Vary"));
        }
        using (var noOrigin = await gateway.Admin.GetAsync("/services"))
        {
            Assert.Null(Header(noOrigin, "Access-Control-Allow-Origin"));
            Assert.Equal("Origin", Header(noOrigin, "Vary"));
        }
        // same host, other port or scheme: another origin
        using (var otherPort = await gateway.Admin.SendAsync(Request(HttpMethod.Get, "/", "http://manager.test:9999")))
            Assert.Equal(HttpStatusCode.Forbidden, otherPort.StatusCode);
    }

    [Theory]
    [InlineData("evil.example", 421)]
    [InlineData("evil.example:8001", 421)]
    [InlineData("127.0.0.1.nip.io", 421)]
    [InlineData("localhost", 200)]
    [InlineData("LOCALHOST.", 200)]
    [InlineData("127.0.0.1:8001", 200)]
    [InlineData("[::1]:8001", 200)]
    [InlineData("10.1.2.3", 200)]          // an IP literal cannot be rebound
    [InlineData("manager.test", 200)]      // admin_gui_url's host
    [InlineData("admin.internal:443", 200)] // admin_allowed_hosts
    public async Task HostIsCheckedAgainstTheNamesTheAdminApiAnswersTo(string host, int expected)
    {
        await using var gateway = await StartAsync(o => o with
        {
            AdminGuiUrl = [new Uri(Manager)],
            AdminAllowedHosts = ["admin.internal"],
        });
        using var response = await gateway.Admin.SendAsync(Request(HttpMethod.Get, "/", host: host));
        Assert.Equal(expected, (int)response.StatusCode);
        if (expected == 421)
            Assert.Equal("Host not allowed (see admin_allowed_hosts)", (string?)(await JsonAsync(response))["message"]);
        // a write under a rebound name is refused too, and nothing is written
        if (expected != 421) return;
        using var post = await gateway.Admin.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/services")
        {
            Headers = { Host = host },
            Content = new FormUrlEncodedContent([new("name", "planted"), new("url", "http://127.0.0.1:9")]),
        });
        Assert.Equal(HttpStatusCode.MisdirectedRequest, post.StatusCode);
        var (_, services) = await gateway.GetAsync("/services");
        Assert.Empty(services!["data"]!.AsArray());
    }

    [Fact]
    public async Task StatusListenerChecksHostToo()
    {
        await using var gateway = await StartAsync();
        using var client = new HttpClient();
        using (var ok = await client.GetAsync(new Uri(gateway.StatusUri, "/status"))) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var rebound = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway.StatusUri, "/metrics")) { Headers = { Host = "evil.example" } };
        using var refused = await client.SendAsync(rebound);
        Assert.Equal(HttpStatusCode.MisdirectedRequest, refused.StatusCode);
    }

    [Fact]
    public async Task AllowedHostsStarAcceptsAnyName()
    {
        await using var gateway = await StartAsync(o => o with { AdminAllowedHosts = ["*"] });
        using var response = await gateway.Admin.SendAsync(Request(HttpMethod.Get, "/", host: "anything.example"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task AdminTokenIsRequiredOnEveryRequest()
    {
        const string Token = "s3cr3t-admin-token-0123456789";
        await using var gateway = await StartAsync(o => o with { AdminToken = Token, AdminGuiUrl = [new Uri(Manager)] });
        foreach (var path in new[] { "/", "/status", "/services", "/nowhere" })
        {
            using var missing = await gateway.Admin.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
            Assert.Equal("No admin token found in request", (string?)(await JsonAsync(missing))["message"]);
            Assert.Equal("Bearer", Header(missing, "WWW-Authenticate"));
        }
        foreach (var wrong in new[] { "x", Token + "x", Token[..^1], Token.ToUpperInvariant() })
        {
            using var request = Request(HttpMethod.Get, "/services");
            request.Headers.Add("Kong-Admin-Token", wrong);
            using var response = await gateway.Admin.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Invalid admin token", (string?)(await JsonAsync(response))["message"]);
        }
        using (var write = FormPost("/services", Manager))
        {
            write.Headers.Add("Kong-Admin-Token", Token);
            using var created = await gateway.Admin.SendAsync(write);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        using (var bearer = Request(HttpMethod.Get, "/services"))
        {
            bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            using var response = await gateway.Admin.SendAsync(bearer);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Single((await JsonAsync(response))["data"]!.AsArray());
        }
        using (var basic = Request(HttpMethod.Get, "/services"))
        {
            basic.Headers.Authorization = new AuthenticationHeaderValue("Basic", Token);
            using var response = await gateway.Admin.SendAsync(basic);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        // browsers send preflights without credentials: answered for the GUI's origin, which then sends the token
        using (var preflight = await gateway.Admin.SendAsync(Preflight("/services", Manager, headers: "kong-admin-token")))
            Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        // the 401 carries the CORS headers so the GUI can read it
        using (var guiMissing = await gateway.Admin.SendAsync(Request(HttpMethod.Get, "/", Manager)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, guiMissing.StatusCode);
            Assert.Equal(Manager, Header(guiMissing, "Access-Control-Allow-Origin"));
        }
        // the status listener needs no token; GET / masks the token
        using (var client = new HttpClient())
        using (var status = await client.GetAsync(new Uri(gateway.StatusUri, "/status")))
            Assert.Equal(HttpStatusCode.OK, status.StatusCode);
    }

    [Fact]
    public async Task AdminTokenFromTheConfIsMaskedInTheNodeInfo()
    {
        const string Token = "conf-token-abcdef";
        var loaded = GatehouseConfLoader.LoadText($"admin_token = {Token}\n", new Dictionary<string, string?>());
        Assert.Empty(loaded.Errors);
        await using var gateway = await StartAsync(o => o with { AdminToken = loaded.Options!.AdminToken, Raw = loaded.Options.Raw });
        gateway.Admin.DefaultRequestHeaders.Add("Kong-Admin-Token", Token);
        using var response = await gateway.Admin.GetAsync("/");
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(Token, text);
        Assert.Equal("******", (string?)JsonNode.Parse(text)!["configuration"]!["admin_token"]);
    }

    [Theory]
    [InlineData("admin_gui_url", "http://manager.test:8002/manager, https://gui.example", null)]
    [InlineData("admin_gui_url", "ftp://manager.test", "admin_gui_url: 'ftp://manager.test' is not a URL")]
    [InlineData("admin_gui_url", "manager.test:8002", "admin_gui_url: 'manager.test:8002' is not a URL")]
    [InlineData("admin_gui_origin", "http://a.test, HTTPS://B.test:443", null)]
    [InlineData("admin_gui_origin", "*", "admin_gui_origin: '*' is not an origin")]
    [InlineData("admin_gui_origin", "null", "admin_gui_origin: 'null' is not an origin")]
    [InlineData("admin_gui_origin", "http://a.test/path", "admin_gui_origin: 'http://a.test/path' is not an origin")]
    [InlineData("admin_allowed_hosts", "admin.internal, 10.0.0.5, LOCAL-box.", null)]
    [InlineData("admin_allowed_hosts", "*", null)]
    [InlineData("admin_allowed_hosts", "*, a.test", "admin_allowed_hosts: '*' cannot be combined")]
    [InlineData("admin_allowed_hosts", "http://a.test", "admin_allowed_hosts: 'http://a.test' is not a host name")]
    [InlineData("admin_allowed_hosts", "a.test:8001", "admin_allowed_hosts: 'a.test:8001' is not a host name")]
    [InlineData("admin_allowed_hosts", "*.a.test", "admin_allowed_hosts: '*.a.test' is not a host name")]
    [InlineData("admin_token", "has space", "admin_token: must be non-empty printable ASCII")]
    [InlineData("admin_token", "tøken", "admin_token: must be non-empty printable ASCII")]
    public void ExposureKeysAreValidated(string key, string value, string? error)
    {
        var result = GatehouseConfLoader.LoadText($"{key} = {value}\n", new Dictionary<string, string?>());
        if (error is null)
        {
            Assert.Empty(result.Errors);
            return;
        }
        Assert.Contains(result.Errors, e => e.StartsWith(error, StringComparison.Ordinal));
    }

    [Fact]
    public void OriginsAreNormalisedAsBrowsersSendThem()
    {
        var o = GatehouseConfLoader.LoadText("admin_gui_origin = HTTPS://B.test:443, http://a.test:8080/\n", new Dictionary<string, string?>()).Options!;
        Assert.Equal(["https://b.test", "http://a.test:8080"], o.AdminGuiOrigin);
    }

    [Fact]
    public async Task HealthCommandCarriesTheConfsAdminToken()
    {
        const string Token = "health-token-0123456789";
        var port = Infrastructure.EchoUpstream.FreePort();
        await using var gateway = await StartAsync(o => o with
        {
            AdminListen = [ListenAddress.Parse($"127.0.0.1:{port}")],
            StatusListen = [],
            AdminToken = Token,
        });
        var dir = Directory.CreateTempSubdirectory("gatehouse-health-").FullName;
        try
        {
            var withToken = Path.Combine(dir, "with.conf");
            File.WriteAllText(withToken, $"prefix = {dir}\nadmin_listen = 127.0.0.1:{port}\nadmin_token = {Token}\n");
            var withoutToken = Path.Combine(dir, "without.conf");
            File.WriteAllText(withoutToken, $"prefix = {dir}\nadmin_listen = 127.0.0.1:{port}\n");
            var (code, output, _) = await HealthAsync(withToken);
            Assert.True(code == 0, output);
            var (refused, _, error) = await HealthAsync(withoutToken);
            Assert.Equal(1, refused);
            Assert.Contains("answered 401", error);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private static async Task<(int Code, string Out, string Err)> HealthAsync(string conf)
    {
        var output = new Cli.SyncWriter();
        var error = new Cli.SyncWriter();
        var code = await Gatehouse.Cli.GatehouseCli.InvokeAsync(["health", "-c", conf],
            new Gatehouse.Cli.CliContext(output, error, new Dictionary<string, string?>()));
        return (code, output.ToString(), error.ToString());
    }
}
