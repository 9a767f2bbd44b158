using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Proxy;
using Gatehouse.Tests.Plugins;
using Gatehouse.Tests.Wasm;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Manager;

/// <summary>
/// Issue 17 in a real browser: headless chromium drives the Gatehouse Manager of a real gateway (SQLite store, the
/// example Proxy-Wasm filters, the echo upstream), and the effect is checked on proxied requests.
/// </summary>
public sealed partial class ManagerBrowserTests(ManagerBrowser browser, ITestOutputHelper output) : IClassFixture<ManagerBrowser>
{
    private static Task<PluginGateway> StartAsync(Func<GatehouseOptions, GatehouseOptions>? configure = null) =>
        PluginGateway.StartAsync(configure: o =>
        {
            o = o with { AdminGuiListen = [ListenAddress.Parse("127.0.0.1:0")], Wasm = true, WasmFiltersPath = WasmPaths.Examples };
            return configure?.Invoke(o) ?? o;
        });

    private static string Ui(PluginGateway gateway, string path) => gateway.Host.Addresses(ListenerKind.Manager)[0].ToString().TrimEnd('/') + path;

    private static async Task<JsonNode> EchoAsync(PluginGateway gateway, string path, Func<JsonNode, bool> until)
    {
        // a change is published to the proxy asynchronously: poll briefly
        for (var i = 0; ; i++)
        {
            using var response = await gateway.Proxy.GetAsync(path);
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.OK && JsonNode.Parse(text) is { } echo && until(echo)) return echo;
            if (i == 50) throw new Xunit.Sdk.XunitException($"{path}: {(int)response.StatusCode} {text}");
            await Task.Delay(100);
        }
    }

    private static async Task<string[]> PlanFiltersAsync(IPage page, string phase) =>
        [.. await page.Locator($"[data-phase='{phase}'] li[data-kind='filter'] strong").AllInnerTextsAsync()];

    [Fact]
    public async Task Service_route_plugin_and_filter_chain_made_in_the_ui_change_the_proxied_request_and_reordering_changes_the_plan()
    {
        await using var gateway = await StartAsync();
        var errors = new List<string>();
        var page = await browser.NewPageAsync(errors);

        // a service (url shorthand) and, from its page, a route
        await page.GotoAsync(Ui(gateway, "/services/new"));
        await page.FillAsync("#f-name", "ui-service");
        await page.FillAsync("#f-url", $"http://127.0.0.1:{gateway.Upstream.Port}");
        await page.ClickAsync("button:text-is('Create')");
        await ManagerBrowser.PathAsync(page, "/services/[0-9a-f-]{36}$");
        await page.ClickAsync("a:text-is('New route')");
        await page.FillAsync("#f-name", "ui-route");
        await page.FillAsync("#f-paths", "/ui");
        await page.ClickAsync("button:text-is('Create')");
        await ManagerBrowser.PathAsync(page, "/routes/[0-9a-f-]{36}$");
        var routeUrl = page.Url;
        await EchoAsync(gateway, "/ui/hello", _ => true);

        // a plugin on the route, its form generated from /schemas/plugins/request-transformer
        await page.ClickAsync("a:text-is('New plugin')");
        await page.SelectOptionAsync("#plugin-name", "request-transformer");
        await page.FillAsync("[id='f-config.add.headers']", "x-from-plugin:yes");
        await ManagerBrowser.ShotAsync(page, "plugin-form");
        await page.ClickAsync("button:text-is('Create')");
        await ManagerBrowser.PathAsync(page, "/plugins/[0-9a-f-]{36}$");
        var pluginUrl = page.Url;
        await EchoAsync(gateway, "/ui/hello", e => (string?)e["headers"]?["x-from-plugin"] == "yes");
        // its edit form is the plugin's own, filled with what was saved
        await page.ClickAsync("a:text-is('Edit')");
        await page.WaitForSelectorAsync("[id='f-config.add.headers']");
        Assert.Equal("x-from-plugin:yes", await page.InputValueAsync("[id='f-config.add.headers']"));

        // a filter chain: add-headers (form from its meta.json schema) then request-counter
        await page.GotoAsync(routeUrl);
        await page.ClickAsync("a:text-is('New filter chain')");
        await page.FillAsync("#chain-name", "ui-chain");
        await page.SelectOptionAsync("#add-filter", "add-headers");
        await page.ClickAsync("button:text-is('Add')");
        await page.FillAsync("[id='filter-0-request.add']", """{"x-from-filter": "yes"}""");
        await page.PressAsync("[id='filter-0-request.add']", "Tab");
        await page.SelectOptionAsync("#add-filter", "request-counter");
        await page.ClickAsync("button:text-is('Add')");
        await page.ClickAsync("button:text-is('Create')");
        await ManagerBrowser.PathAsync(page, "/filter-chains/[0-9a-f-]{36}$");
        var echo = await EchoAsync(gateway, "/ui/hello", e => (string?)e["headers"]?["x-from-filter"] == "yes");
        Assert.Equal("yes", (string?)echo["headers"]!["x-from-plugin"]);
        var chainUrl = page.Url;
        await ManagerBrowser.ShotAsync(page, "filter-chain");

        // the plan: plugins then filters in chain order, each with where it comes from
        await page.GotoAsync(routeUrl + "/plan");
        await page.WaitForSelectorAsync("[data-phase='access']");
        var phase = (await PlanFiltersAsync(page, "request_headers")).Length == 2 ? "request_headers" : "access";
        Assert.Equal(["add-headers", "request-counter"], await PlanFiltersAsync(page, phase));
        Assert.Contains("route", await page.InnerTextAsync($"[data-phase='{phase}'] li[data-kind='filter']"));
        Assert.Contains("request-transformer", await page.InnerTextAsync("[data-phase='access']"));
        await ManagerBrowser.ShotAsync(page, "plan");

        // reorder and disable: the plan follows, and says what is disabled
        await page.GotoAsync(chainUrl);
        await page.ClickAsync("button[aria-label='Move add-headers down']");
        await page.ClickAsync("button:text-is('Save')");
        await page.WaitForSelectorAsync("text=Saved.");
        await page.GotoAsync(routeUrl + "/plan");
        await page.WaitForSelectorAsync("[data-phase='access']");
        Assert.Equal(["request-counter", "add-headers"], await PlanFiltersAsync(page, phase));
        await page.GotoAsync(chainUrl);
        await page.Locator("li[data-filter='request-counter'] input[type=checkbox]").UncheckAsync();
        await page.ClickAsync("button:text-is('Save')");
        await page.WaitForSelectorAsync("text=Saved.");
        await page.GotoAsync(routeUrl + "/plan");
        await page.WaitForSelectorAsync("[data-phase='access']");
        Assert.Equal(["add-headers"], await PlanFiltersAsync(page, phase));
        Assert.Contains("request-counter", await page.InnerTextAsync(".disabled-list"));

        // a plugin disabled through its edit form leaves the plan and is listed with the reason
        await page.GotoAsync(pluginUrl + "/edit");
        await page.Locator("#f-enabled").UncheckAsync();
        await page.ClickAsync("button:text-is('Save')");
        await ManagerBrowser.PathAsync(page, "/plugins/[0-9a-f-]{36}$");
        await page.GotoAsync(routeUrl + "/plan");
        await page.WaitForSelectorAsync("[data-phase='access']");
        Assert.DoesNotContain("request-transformer", await page.InnerTextAsync("[data-phase='access']"));
        Assert.Contains("request-transformer: plugin disabled", await page.InnerTextAsync(".disabled-list"));
        await EchoAsync(gateway, "/ui/hello", e => e["headers"]?["x-from-plugin"] is null);

        // the lists the run produced, for the README
        await page.GotoAsync(Ui(gateway, "/routes"));
        await page.WaitForSelectorAsync("td a:text-is('ui-route')");
        await ManagerBrowser.ShotAsync(page, "routes");
        await page.GotoAsync(Ui(gateway, "/filters"));
        await page.WaitForSelectorAsync("td:has-text('V0_2_1')");
        Assert.Contains("loaded", await page.InnerTextAsync("table"));
        await ManagerBrowser.ShotAsync(page, "filters");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Invalid_input_shows_kongs_error_next_to_the_field()
    {
        await using var gateway = await StartAsync();
        var errors = new List<string>();
        var page = await browser.NewPageAsync(errors);
        await page.GotoAsync(Ui(gateway, "/services/new"));
        await page.FillAsync("#f-name", "not a name!");
        await page.FillAsync("#f-url", "http://127.0.0.1:9");
        // keyboard: Enter in a field submits the form
        await page.PressAsync("#f-url", "Enter");
        var error = page.Locator("#f-name-error");
        await error.WaitForAsync();
        Assert.Contains("invalid value 'not a name!'", await error.InnerTextAsync());
        Assert.Equal("f-name-error", await page.GetAttributeAsync("#f-name", "aria-describedby"));
        await ManagerBrowser.ShotAsync(page, "field-error");

        // a filter configuration the gateway refuses: the error comes back under that filter
        var (_, route) = await gateway.ServiceAndRouteAsync("svc", "/svc");
        await page.GotoAsync(Ui(gateway, $"/filter-chains/new?route={route}"));
        await page.SelectOptionAsync("#add-filter", "require-header");
        await page.ClickAsync("button:text-is('Add')");
        // checked as you type: require-header's schema requires "header"
        Assert.Contains("required", await page.InnerTextAsync("li[data-filter='require-header']"));
        await page.ClickAsync("button:text-is('Create')");
        var filterError = page.Locator("[data-test='filter-config-error']");
        await filterError.WaitForAsync();
        Assert.Contains("header", await filterError.InnerTextAsync());
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Db_less_pages_are_read_only_and_an_upload_shows_the_errors_of_each_entity_then_1000_routes_load()
    {
        using var dir = new Store.TempDir();
        var file = dir.File("kong.yml");
        await File.WriteAllTextAsync(file, "_format_version: \"3.0\"\nservices:\n- name: first\n  url: http://127.0.0.1:9\n");
        await using var gateway = await StartAsync(o => o with { Database = DatabaseKind.Off, DeclarativeConfig = file });
        var errors = new List<string>();
        var page = await browser.NewPageAsync(errors);
        await page.GotoAsync(Ui(gateway, "/services"));
        await page.WaitForSelectorAsync("td a:text-is('first')");
        Assert.Equal(0, await page.Locator("a:text-is('New service')").CountAsync());
        Assert.Equal(0, await page.Locator("button:text-is('Delete')").CountAsync());

        await page.GotoAsync(Ui(gateway, "/config"));
        await page.ClickAsync("button:text-is('Load current configuration')");
        await page.WaitForSelectorAsync("a:text-is('Download kong.yml')");
        Assert.Contains("name: first", await page.InputValueAsync("#config-text"));
        await page.FillAsync("#config-text", """
            _format_version: "3.0"
            services:
            - name: good
              url: http://127.0.0.1:9
            - name: broken
              url: not-a-url
              routes:
              - name: bad-route
                paths: [no-slash]
            """);
        await page.ClickAsync("button:text-is('Upload (POST /config)')");
        await page.WaitForSelectorAsync("table.entity-errors");
        var table = await page.InnerTextAsync("table.entity-errors");
        Assert.Contains("broken", table);
        Assert.Contains("bad-route", table);
        Assert.Contains("should start with: /", table);
        await ManagerBrowser.ShotAsync(page, "config-upload-errors");

        // 1,000 routes: how long the main pages take to show them (reported, not asserted)
        var routes = new JsonArray();
        for (var i = 0; i < 1000; i++) routes.Add(new JsonObject { ["name"] = $"r{i:D4}", ["paths"] = new JsonArray($"/r{i}") });
        var config = new JsonObject { ["_format_version"] = "3.0", ["services"] = new JsonArray(new JsonObject { ["name"] = "many", ["url"] = "http://127.0.0.1:9", ["routes"] = routes }) };
        using (var posted = await gateway.Admin.PostAsync("/config", new StringContent(new JsonObject { ["config"] = config.ToJsonString() }.ToJsonString(), System.Text.Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        var routeId = (string)JsonNode.Parse(await gateway.Admin.GetStringAsync("/routes/r0500"))!["id"]!;
        // Measured in the page (Navigation/Resource Timing): from navigation start (or the click, inside the app) to
        // the DOM change that shows the page's data, seen by a MutationObserver installed before the app runs.
        await page.AddInitScriptAsync("""
            (() => {
              window.__readyAt = null;
              window.__readySelector = sessionStorage.getItem('gatehouse-ready');
              const check = () => { if (window.__readySelector && window.__readyAt === null && document.querySelector(window.__readySelector)) window.__readyAt = performance.now(); };
              new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true });
            })()
            """);
        const string Timings = """
            () => {
              const nav = performance.getEntriesByType('navigation')[0];
              const fetches = performance.getEntriesByType('resource').filter(e => e.initiatorType === 'fetch' || e.initiatorType === 'script' || e.initiatorType === 'link')
                .map(e => { const u = new URL(e.name); return `${u.pathname.replace(/^\/assets\//, '')}${u.search} ${e.startTime.toFixed(0)}-${e.responseEnd.toFixed(0)}`; });
              return `${window.__readyAt.toFixed(0)} ms (DOMContentLoaded at ${nav.domContentLoadedEventEnd.toFixed(0)}; ${fetches.join(', ')})`;
            }
            """;
        async Task<string> LoadAsync(string path, string ready)
        {
            await page.EvaluateAsync("s => sessionStorage.setItem('gatehouse-ready', s)", ready);
            await page.GotoAsync(Ui(gateway, path));
            await page.WaitForFunctionAsync("() => window.__readyAt !== null");
            return await page.EvaluateAsync<string>(Timings);
        }
        await page.GotoAsync(Ui(gateway, "/"));
        foreach (var (path, ready) in new[]
        {
            ("/routes", "tbody tr:nth-child(25) a"), ("/services", "tbody tr:nth-child(1) td a"), ($"/routes/{routeId}", "dl.props dd"),
            ($"/routes/{routeId}/plan", "[data-phase='access']"), ("/", ".cards > section:nth-child(2) dl.props"),
        })
        {
            await LoadAsync(path, ready); // warm: the first visit of a page compiles its script
            for (var run = 0; run < 3; run++) output.WriteLine($"1,000 routes: {path} loaded and shown in {await LoadAsync(path, ready)}");
        }
        // inside the app (no reload): from the click on a menu link until the data shows
        foreach (var (link, ready) in new[] { ("/routes", "tbody tr:nth-child(25) a"), ("/services", "tbody tr:nth-child(1) td a"), ("/", ".cards > section:nth-child(2) dl.props") })
        for (var run = 0; run < 3; run++)
        {
            await page.GotoAsync(Ui(gateway, "/filters"));
            await page.WaitForSelectorAsync("h1:text-is('Filters')");
            var ms = await page.EvaluateAsync<double>("""
                ([link, ready]) => new Promise(resolve => {
                  const start = performance.now();
                  const observer = new MutationObserver(() => { if (document.querySelector(ready)) { observer.disconnect(); resolve(performance.now() - start); } });
                  observer.observe(document, { childList: true, subtree: true, characterData: true });
                  document.querySelector(`nav#nav a[href='${link}']`).click();
                })
                """, new[] { link, ready });
            output.WriteLine($"1,000 routes: {link} shown {ms:F0} ms after the menu click");
        }
        await page.GotoAsync(Ui(gateway, "/routes"));
        await page.WaitForSelectorAsync("tbody tr:nth-child(25) a");
        var watch = Stopwatch.StartNew();
        await page.SelectOptionAsync("select:near(:text('Per page'))", "1000");
        await page.WaitForSelectorAsync("tbody tr:nth-child(1000) a");
        output.WriteLine($"1,000 routes: /routes with 1000 per page shown in {watch.ElapsedMilliseconds} ms");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Phone_width_is_readable_and_the_admin_token_is_asked_for()
    {
        await using var gateway = await StartAsync(o => o with { AdminToken = "ui-token" });
        gateway.Admin.DefaultRequestHeaders.Add("Kong-Admin-Token", "ui-token");
        await gateway.ServiceAndRouteAsync("phone", "/phone");
        var errors = new List<string>();
        var page = await browser.NewPageAsync(errors, 390, 844);
        await page.GotoAsync(Ui(gateway, "/services"));
        await page.FillAsync("#admin-token", "ui-token");
        await page.PressAsync("#admin-token", "Enter");
        await page.WaitForSelectorAsync("td a:text-is('phone')");
        // nothing wider than the screen: no sideways scrolling
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"));
        await ManagerBrowser.ShotAsync(page, "services-phone");
        await page.ClickAsync("button:text-is('Menu')");
        await page.ClickAsync("nav a:text-is('Routes')");
        await page.WaitForSelectorAsync("td a:text-is('phone-route')");
        // keyboard: the first Tab of a page reaches the skip link (the token is kept for the tab)
        await page.ReloadAsync();
        await page.WaitForSelectorAsync("td a:text-is('phone-route')");
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("Skip to content", await page.EvaluateAsync<string>("document.activeElement.textContent.trim()"));

        var desktop = await browser.NewPageAsync(errors);
        await desktop.GotoAsync(Ui(gateway, "/services"));
        await desktop.FillAsync("#admin-token", "ui-token");
        await desktop.PressAsync("#admin-token", "Enter");
        await desktop.WaitForSelectorAsync("td a:text-is('phone')");
        await ManagerBrowser.ShotAsync(desktop, "services");
        Assert.Empty(errors);
    }
}
