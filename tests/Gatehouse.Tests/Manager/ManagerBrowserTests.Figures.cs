using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Wasm;

namespace Gatehouse.Tests.Manager;

/// <summary>The gateway's own figures on the plan and filters pages (issue 17 points 4 and 5): a route's requests,
/// errors and latency from the prometheus plugin's series, each filter's calls, traps, deadline hits and VMs, and the
/// hot-reload history; nothing shown where the gateway has no figure.</summary>
public sealed partial class ManagerBrowserTests
{
    [Fact]
    public async Task Plan_and_filters_pages_show_the_gateways_figures_and_the_hot_reload_history()
    {
        var filters = WasmPaths.CopyFilters(WasmPaths.Examples, "add-headers");
        File.Copy(Path.Combine(WasmPaths.Repo, "filters", "test", "chaos.wasm"), Path.Combine(filters, "chaos.wasm"));
        try
        {
            await using var gateway = await StartAsync(o => o with { WasmFiltersPath = filters });
            var (_, route) = await gateway.ServiceAndRouteAsync("fig", "/fig");
            await gateway.CreateAsync($"/routes/{route}/plugins", new { name = "prometheus", config = new { status_code_metrics = true, latency_metrics = true } });
            await gateway.CreateAsync($"/routes/{route}/filter-chains", JsonNode.Parse(
                """{"filters":[{"name":"chaos"},{"name":"add-headers","config":{"request":{"add":{"x-fig":"1"}}}}]}""")!.ToJsonString());
            var (_, quiet) = await gateway.ServiceAndRouteAsync("quiet", "/quiet");
            await EchoAsync(gateway, "/fig", e => (string?)e["headers"]?["x-fig"] == "1");
            using (var trap = ProxyRequests.Get("/fig"))
            {
                trap.Headers.Add("x-chaos", "trap");
                using var response = await gateway.Proxy.SendAsync(trap);
                Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            }
            var metrics = await gateway.Admin.GetStringAsync("/metrics");
            var ok = metrics.Split('\n').Where(l => l.StartsWith("kong_http_requests_total{", StringComparison.Ordinal) && l.Contains("route=\"fig-route\"")
                && l.Contains("code=\"200\"")).Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(ok >= 1);

            var errors = new List<string>();
            var page = await browser.NewPageAsync(errors);
            await page.GotoAsync(Ui(gateway, $"/routes/{route}/plan"));
            var traffic = page.Locator("[data-test='route-traffic']");
            await traffic.WaitForAsync();
            var text = await traffic.InnerTextAsync();
            Assert.Contains($"{ok + 1} (200: {ok}, 500: 1)", text);
            Assert.Matches(@"errors \(5xx\)\s+1\s", text);
            Assert.Contains("mean latency", text);
            Assert.Contains("mean upstream", text);
            Assert.Contains("calls, mean", await page.InnerTextAsync("[data-phase='access'] li[data-kind='filter']:has-text('chaos') [data-test='filter-calls']"));
            var chaosRow = page.Locator("table.filter-figures tr[data-filter='chaos']");
            Assert.Equal("1", (await chaosRow.Locator("td[data-label='traps']").InnerTextAsync()).Trim());
            Assert.Equal("0", (await chaosRow.Locator("td[data-label='deadline hits']").InnerTextAsync()).Trim());
            Assert.Contains("proxy_on_request_headers", await chaosRow.Locator("td[data-label='callbacks']").InnerTextAsync());
            // no plugin figure: the gateway measures none
            Assert.Equal(0, await page.Locator("li[data-kind='plugin'] [data-test='filter-calls']").CountAsync());
            await ManagerBrowser.ShotAsync(page, "plan-figures");

            // a route without the prometheus plugin: no figures, and the page says why
            await page.GotoAsync(Ui(gateway, $"/routes/{quiet}/plan"));
            await page.WaitForSelectorAsync("[data-test='no-route-traffic']");
            Assert.Equal(0, await page.Locator("[data-test='route-traffic']").CountAsync());

            // a hot reload the gateway refuses (body-rewrite rejects the configuration in use) is listed with its error
            var target = Path.Combine(filters, "add-headers.wasm");
            File.Copy(Path.Combine(WasmPaths.Examples, "body-rewrite.wasm"), target + ".tmp", true);
            File.Move(target + ".tmp", target, true);
            await Eventually.TrueAsync(async () => JsonNode.Parse(await gateway.Admin.GetStringAsync("/filters"))!["data"]!.AsArray()
                .Any(f => (string?)f!["name"] == "add-headers" && f["reloads"]!.AsArray().Count == 1), "the refused reload", TimeSpan.FromSeconds(30));
            await page.GotoAsync(Ui(gateway, "/filters"));
            var reloads = page.Locator("section[data-filter='add-headers'] ol.reloads");
            await reloads.Locator("li.refused").WaitForAsync();
            Assert.Contains("rejected", await reloads.InnerTextAsync());
            Assert.Contains("none since start", await page.InnerTextAsync("section[data-filter='chaos'] ol.reloads"));
            Assert.Equal("1", (await page.InnerTextAsync("tr:has(strong:text-is('chaos')) td[data-label='traps']")).Trim());
            Assert.Contains("proxy_on_request_headers", await page.InnerTextAsync("section[data-filter='chaos'] ul.callbacks"));
            await ManagerBrowser.ShotAsync(page, "filters-figures");
            Assert.Empty(errors);
        }
        finally
        {
            Directory.Delete(filters, recursive: true);
        }
    }
}
