using System.Net;
using System.Text.RegularExpressions;
using Gatehouse.Config;
using Gatehouse.Proxy;
using Gatehouse.Tests.Plugins;

namespace Gatehouse.Tests.Manager;

/// <summary>
/// Issue 17: the Gatehouse Manager served by the gateway on admin_gui_listen: the embedded single-page application,
/// its SPA fallback, content types and caching, <c>/kconfig.js</c>, the Host check, and CORS on the Admin API for the
/// Manager's own origin only. Real gateway, real sockets, SQLite store.
/// </summary>
public sealed partial class ManagerServingTests
{
    private static Task<PluginGateway> StartAsync(Func<GatehouseOptions, GatehouseOptions>? configure = null) =>
        PluginGateway.StartAsync(configure: o =>
        {
            o = o with { AdminGuiListen = [ListenAddress.Parse("127.0.0.1:0")] };
            return configure?.Invoke(o) ?? o;
        });

    private static HttpClient ManagerClient(PluginGateway gateway) =>
        new() { BaseAddress = gateway.Host.Addresses(ListenerKind.Manager)[0] };

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var v) ? string.Join(", ", v)
        : response.Content.Headers.TryGetValues(name, out var c) ? string.Join(", ", c) : null;

    [GeneratedRegex(@"/assets/[A-Za-z0-9_.-]+\.js")]
    private static partial Regex ScriptAsset();

    [Fact]
    public async Task Serves_the_app_its_assets_and_index_html_for_the_apps_own_paths()
    {
        await using var gateway = await StartAsync();
        using var manager = ManagerClient(gateway);
        using var index = await manager.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html; charset=utf-8", Header(index, "Content-Type"));
        Assert.Equal("no-cache", Header(index, "Cache-Control"));
        Assert.Contains("default-src 'self'", Header(index, "Content-Security-Policy"));
        Assert.Equal("nosniff", Header(index, "X-Content-Type-Options"));
        var html = await index.Content.ReadAsStringAsync();
        Assert.Contains("/kconfig.js", html);
        // nothing is fetched from another site: every src/href is a path of this listener
        Assert.DoesNotMatch(@"(src|href)=""(https?:)?//", html);

        // a page of the app (a reload on /services/x) gets index.html, not a 404
        using (var page = await manager.GetAsync("/routes/some-route/plan"))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal(html, await page.Content.ReadAsStringAsync());
        }

        var script = ScriptAsset().Match(html).Value;
        Assert.NotEmpty(script);
        using (var asset = await manager.GetAsync(script))
        {
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
            Assert.Equal("text/javascript; charset=utf-8", Header(asset, "Content-Type"));
            Assert.Equal("public, max-age=31536000, immutable", Header(asset, "Cache-Control"));
            var etag = asset.Headers.ETag!;
            using var again = new HttpRequestMessage(HttpMethod.Get, script) { Headers = { IfNoneMatch = { etag } } };
            using var notModified = await manager.SendAsync(again);
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        }
        using (var missing = await manager.GetAsync("/assets/nothing-here.js"))
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using (var missingFile = await manager.GetAsync("/favicon-missing.png"))
            Assert.Equal(HttpStatusCode.NotFound, missingFile.StatusCode);
        using (var post = await manager.PostAsync("/", new StringContent("x")))
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
            Assert.Equal("GET, HEAD", Header(post, "Allow"));
        }
        // the Admin API is not served on the Manager's listener
        using (var services = await manager.GetAsync("/services"))
            Assert.StartsWith("text/html", Header(services, "Content-Type"));
    }

    [Fact]
    public async Task Kconfig_names_the_admin_api_and_whether_a_token_is_needed_but_never_the_token()
    {
        await using (var gateway = await StartAsync())
        {
            using var manager = ManagerClient(gateway);
            using var config = await manager.GetAsync("/kconfig.js");
            Assert.Equal("text/javascript; charset=utf-8", Header(config, "Content-Type"));
            Assert.Equal("no-store", Header(config, "Cache-Control"));
            var text = await config.Content.ReadAsStringAsync();
            Assert.StartsWith("window.K_CONFIG = {", text);
            Assert.Contains($"\"ADMIN_API_PORT\":\"{gateway.Admin.BaseAddress!.Port}\"", text);
            Assert.Contains("\"ADMIN_API_URL\":\"\"", text);
            Assert.Contains("\"ADMIN_TOKEN_REQUIRED\":false", text);
            Assert.Contains("\"DATABASE\":\"sqlite\"", text);
        }
        await using (var gateway = await StartAsync(o => o with { AdminToken = "s3cret-token", AdminGuiApiUrl = new Uri("http://admin.example:9001/") }))
        {
            using var manager = ManagerClient(gateway);
            var text = await manager.GetStringAsync("/kconfig.js");
            Assert.Contains("\"ADMIN_TOKEN_REQUIRED\":true", text);
            Assert.Contains("\"ADMIN_API_URL\":\"http://admin.example:9001\"", text);
            Assert.DoesNotContain("s3cret-token", text);
        }
    }

    [Fact]
    public async Task The_manager_listener_checks_Host_as_the_admin_api_does()
    {
        await using var gateway = await StartAsync();
        using var manager = ManagerClient(gateway);
        using var rebound = new HttpRequestMessage(HttpMethod.Get, "/") { Headers = { Host = "evil.example" } };
        using var response = await manager.SendAsync(rebound);
        Assert.Equal(HttpStatusCode.MisdirectedRequest, response.StatusCode);
        using var local = new HttpRequestMessage(HttpMethod.Get, "/") { Headers = { Host = $"localhost:{manager.BaseAddress!.Port}" } };
        using var ok = await manager.SendAsync(local);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    private static HttpRequestMessage Preflight(string origin, string headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/services");
        request.Headers.TryAddWithoutValidation("Origin", origin);
        request.Headers.TryAddWithoutValidation("Access-Control-Request-Method", "POST");
        request.Headers.TryAddWithoutValidation("Access-Control-Request-Headers", headers);
        return request;
    }

    [Fact]
    public async Task The_admin_api_answers_the_managers_origin_cross_site_and_no_other()
    {
        await using var gateway = await StartAsync(o => o with { AdminToken = "tok" });
        var port = gateway.Host.Addresses(ListenerKind.Manager)[0].Port;
        foreach (var origin in new[] { $"http://127.0.0.1:{port}", $"http://localhost:{port}" })
        {
            using var preflight = await gateway.Admin.SendAsync(Preflight(origin, "content-type, kong-admin-token"));
            Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
            Assert.Equal(origin, Header(preflight, "Access-Control-Allow-Origin"));
            Assert.Contains("kong-admin-token", Header(preflight, "Access-Control-Allow-Headers"));

            using var get = new HttpRequestMessage(HttpMethod.Get, "/services");
            get.Headers.TryAddWithoutValidation("Origin", origin);
            get.Headers.TryAddWithoutValidation("Kong-Admin-Token", "tok");
            using var answer = await gateway.Admin.SendAsync(get);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal(origin, Header(answer, "Access-Control-Allow-Origin"));
            Assert.Contains("Origin", Header(answer, "Vary"));
        }
        // the same host on another port, https, or another host: not the Manager
        foreach (var origin in new[] { $"http://127.0.0.1:{port + 1}", $"https://127.0.0.1:{port}", $"http://evil.example:{port}" })
        {
            using var preflight = await gateway.Admin.SendAsync(Preflight(origin, "content-type"));
            Assert.Equal(HttpStatusCode.Forbidden, preflight.StatusCode);
            Assert.Null(Header(preflight, "Access-Control-Allow-Origin"));
        }
    }

    [Fact]
    public async Task With_admin_gui_listen_off_nothing_listens_and_no_origin_is_allowed()
    {
        await using var on = await StartAsync();
        var port = on.Host.Addresses(ListenerKind.Manager)[0].Port;
        await using var gateway = await PluginGateway.StartAsync();
        Assert.Empty(gateway.Host.Addresses(ListenerKind.Manager));
        // the status listener is the last one: the Manager added none after it
        Assert.Single(gateway.Host.Addresses(ListenerKind.Status));
        using var preflight = await gateway.Admin.SendAsync(Preflight($"http://127.0.0.1:{port}", "content-type"));
        Assert.Equal(HttpStatusCode.Forbidden, preflight.StatusCode);
    }
}
