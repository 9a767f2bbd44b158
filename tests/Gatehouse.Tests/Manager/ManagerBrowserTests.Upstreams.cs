using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace Gatehouse.Tests.Manager;

/// <summary>The upstreams (targets with live health), certificates/SNIs and list pages (issue 17), driven through the
/// UI, their effect checked through the Admin API and the proxy.</summary>
public sealed partial class ManagerBrowserTests
{
    [Fact]
    public async Task Upstream_and_targets_made_in_the_ui_serve_the_proxy_and_the_upstream_page_shows_each_targets_live_health()
    {
        await using var gateway = await StartAsync();
        var errors = new List<string>();
        var page = await browser.NewPageAsync(errors);
        var live = $"127.0.0.1:{gateway.Upstream.Port}";
        var dead = $"127.0.0.1:{DeadPort()}";

        // an upstream with active TCP checks on a short interval, set in the form's "More settings"
        await page.GotoAsync(Ui(gateway, "/upstreams/new"));
        await page.FillAsync("#f-name", "ui-upstream");
        await page.ClickAsync("summary:text-is('More settings')");
        await page.SelectOptionAsync("[id='f-healthchecks.active.type']", "tcp");
        await page.FillAsync("[id='f-healthchecks.active.healthy.interval']", "0.2");
        await page.FillAsync("[id='f-healthchecks.active.healthy.successes']", "1");
        await page.FillAsync("[id='f-healthchecks.active.unhealthy.interval']", "0.2");
        await page.FillAsync("[id='f-healthchecks.active.unhealthy.tcp_failures']", "1");
        await page.ClickAsync("button:text-is('Create')");
        await ManagerBrowser.PathAsync(page, "/upstreams/[0-9a-f-]{36}$");
        var upstreamUrl = page.Url;
        var upstream = JsonNode.Parse(await gateway.Admin.GetStringAsync("/upstreams/ui-upstream"))!;
        Assert.Equal("tcp", (string?)upstream["healthchecks"]?["active"]?["type"]);
        Assert.Equal(1, (int?)upstream["healthchecks"]?["active"]?["unhealthy"]?["tcp_failures"]);

        // two targets from its page: the echo upstream and a port nothing listens on
        foreach (var target in new[] { live, dead })
        {
            await page.FillAsync("#target-target", target);
            await page.ClickAsync("button:text-is('Add target')");
            await page.WaitForSelectorAsync($"td:text-is('{target}')");
        }

        // a service whose host is the upstream, and a route: the proxy answers through the live target
        await page.GotoAsync(Ui(gateway, "/services/new"));
        await page.FillAsync("#f-name", "ui-balanced");
        await page.FillAsync("#f-url", "http://ui-upstream");
        await page.ClickAsync("button:text-is('Create')");
        await ManagerBrowser.PathAsync(page, "/services/[0-9a-f-]{36}$");
        await page.ClickAsync("a:text-is('New route')");
        await page.FillAsync("#f-name", "ui-balanced-route");
        await page.FillAsync("#f-paths", "/balanced");
        await page.ClickAsync("button:text-is('Create')");
        await ManagerBrowser.PathAsync(page, "/routes/[0-9a-f-]{36}$");
        var echo = await EchoAsync(gateway, "/balanced/hello", _ => true);
        Assert.Equal("/hello", (string?)echo["path"]); // strip_path

        // the upstream's page: the dead target goes UNHEALTHY, the live one is HEALTHY (the page polls /health)
        await page.GotoAsync(upstreamUrl);
        await page.WaitForSelectorAsync($"tr:has(td:text-is('{dead}')) .badge:text-is('UNHEALTHY')");
        await page.WaitForSelectorAsync($"tr:has(td:text-is('{live}')) .badge:text-is('HEALTHY')");
        Assert.Contains($"{dead} UNHEALTHY", await page.InnerTextAsync($"tr:has(td:text-is('{dead}')) td[data-label='addresses']"));
        if (ManagerBrowser.Screenshots) await page.EvaluateAsync("() => document.querySelector('h2').scrollIntoView()");
        await ManagerBrowser.ShotAsync(page, "upstream");

        // delete the dead target from the page: gone from the Admin API and the page, the proxy still answers
        await page.ClickAsync($"button[aria-label='Delete target {dead}']");
        await page.WaitForSelectorAsync($"td:text-is('{dead}')", new() { State = WaitForSelectorState.Detached });
        var targets = JsonNode.Parse(await gateway.Admin.GetStringAsync("/upstreams/ui-upstream/targets"))!["data"]!.AsArray();
        Assert.Equal([live], targets.Select(t => (string?)t!["target"]));
        await EchoAsync(gateway, "/balanced/again", _ => true);
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Certificate_and_sni_made_in_the_ui_with_kongs_pem_error_on_the_field_then_the_sni_edited_and_both_deleted()
    {
        await using var gateway = await StartAsync();
        var errors = new List<string>();
        var page = await browser.NewPageAsync(errors);
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=ui.example.test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

        // a bad PEM: Kong's error next to the cert field
        await page.GotoAsync(Ui(gateway, "/certificates/new"));
        await page.FillAsync("#f-cert", "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----");
        await page.FillAsync("#f-key", rsa.ExportPkcs8PrivateKeyPem());
        await page.FillAsync("#f-snis", "ui.example.test");
        await page.ClickAsync("button:text-is('Create')");
        await page.Locator("#f-cert-error").WaitForAsync();
        Assert.StartsWith("invalid certificate", await page.InnerTextAsync("#f-cert-error"));
        Assert.Equal(0, await page.Locator("#f-key-error").CountAsync());

        // the real one, with its SNI
        await page.FillAsync("#f-cert", cert.ExportCertificatePem());
        await page.ClickAsync("button:text-is('Create')");
        await ManagerBrowser.PathAsync(page, "/certificates/[0-9a-f-]{36}$");
        var certificateId = page.Url[^36..];
        var sni = JsonNode.Parse(await gateway.Admin.GetStringAsync("/snis/ui.example.test"))!;
        Assert.Equal(certificateId, (string?)sni["certificate"]?["id"]);

        // the SNI on the certificate's page and in the SNIs list
        await page.WaitForSelectorAsync("td a:text-is('ui.example.test')");
        if (ManagerBrowser.Screenshots) await page.EvaluateAsync("() => document.querySelector('h2').scrollIntoView()");
        await ManagerBrowser.ShotAsync(page, "certificate");
        await page.GotoAsync(Ui(gateway, "/snis"));
        await page.ClickAsync("td a:text-is('ui.example.test')");
        await ManagerBrowser.PathAsync(page, "/snis/[0-9a-f-]{36}$");

        // edit the SNI's name
        await page.ClickAsync("a:text-is('Edit')");
        await page.FillAsync("#f-name", "www.example.test");
        await page.ClickAsync("button:text-is('Save')");
        await page.WaitForSelectorAsync("dd code:text-is('www.example.test')");
        using (var old = await gateway.Admin.GetAsync("/snis/ui.example.test"))
            Assert.Equal(HttpStatusCode.NotFound, old.StatusCode);
        var renamed = JsonNode.Parse(await gateway.Admin.GetStringAsync($"/certificates/{certificateId}"))!;
        Assert.Equal(["www.example.test"], renamed["snis"]!.AsArray().Select(n => (string?)n));

        // delete the SNI (two steps), then the certificate from the list
        await page.ClickAsync("button:text-is('Delete')");
        await page.ClickAsync("button:text-is('Confirm delete')");
        await ManagerBrowser.PathAsync(page, "/snis$");
        await page.WaitForSelectorAsync("td.empty");
        using (var gone = await gateway.Admin.GetAsync("/snis/www.example.test"))
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        await page.GotoAsync(Ui(gateway, "/certificates"));
        await page.ClickAsync($"button[aria-label='Delete certificate {certificateId}']");
        await page.ClickAsync("button:text-is('Confirm delete')");
        await page.WaitForSelectorAsync("td.empty");
        using (var gone = await gateway.Admin.GetAsync($"/certificates/{certificateId}"))
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_list_pages_with_next_and_previous_filters_by_tags_and_finds_by_name_or_id()
    {
        await using var gateway = await StartAsync();
        var all = new List<string>();
        var ids = new Dictionary<string, string>();
        for (var i = 0; i < 30; i++)
        {
            var name = $"svc-{i:D2}";
            string[] tags = i < 3 ? ["blue"] : i < 5 ? ["green"] : [];
            var created = await gateway.CreateAsync("/services", new { name, url = $"http://127.0.0.1:{gateway.Upstream.Port}", tags });
            all.Add(name);
            ids[name] = (string)created["id"]!;
        }
        var errors = new List<string>();
        var page = await browser.NewPageAsync(errors);

        // paging: 25 on the first page, the other 5 on the next, and back
        await page.GotoAsync(Ui(gateway, "/services"));
        var first = await RowsAsync(page, 25);
        await page.ClickAsync("nav.pager button:text-is('Next')");
        await page.WaitForSelectorAsync("nav.pager span:text-is('Page 2')");
        var second = await RowsAsync(page, 5);
        Assert.Empty(first.Intersect(second));
        Assert.Equal(all.Order(), first.Concat(second).Order());
        Assert.True(await page.IsDisabledAsync("nav.pager button:text-is('Next')"));
        await page.ClickAsync("nav.pager button:text-is('Previous')");
        await page.WaitForSelectorAsync("nav.pager span:text-is('Page 1')");
        Assert.Equal(first, await RowsAsync(page, 25));

        // tag filter: one tag, then either of two (Kong's a/b)
        await page.FillAsync("#tags-services", "blue");
        await page.PressAsync("#tags-services", "Enter");
        await ShowsAsync(page, "svc-00", "svc-01", "svc-02");
        await page.FillAsync("#tags-services", "blue/green");
        await page.PressAsync("#tags-services", "Enter");
        await ShowsAsync(page, "svc-00", "svc-01", "svc-02", "svc-03", "svc-04");
        await page.FillAsync("#tags-services", "");
        await page.PressAsync("#tags-services", "Enter");
        await RowsAsync(page, 25);

        // search by name, by id, and a name that does not exist
        await page.FillAsync("#search-services", "svc-17");
        await page.ClickAsync("button:text-is('Find')");
        await ShowsAsync(page, "svc-17");
        await page.FillAsync("#search-services", ids["svc-28"]);
        await page.ClickAsync("button:text-is('Find')");
        await ShowsAsync(page, "svc-28");
        await page.ClickAsync("td a:text-is('svc-28')");
        await ManagerBrowser.PathAsync(page, $"/services/{ids["svc-28"]}$");
        await page.GoBackAsync();
        await RowsAsync(page, 25);
        await page.FillAsync("#search-services", "no-such-service");
        await page.ClickAsync("button:text-is('Find')");
        await page.WaitForSelectorAsync("td.empty:text-is('Nothing found with that name or id.')");
        Assert.Empty(errors);
    }

    /// <summary>The names in the list's first column once it shows <paramref name="count"/> rows.</summary>
    private static async Task<string[]> RowsAsync(IPage page, int count)
    {
        const string rows = ".entity-list tbody tr td:first-child a";
        try
        {
            await page.WaitForFunctionAsync("([s, n]) => document.querySelectorAll(s).length === n", new object[] { rows, count }, new() { PollingInterval = 100, Timeout = 30_000 });
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"the list did not show {count} rows; it shows {string.Join(", ", await page.Locator(rows).AllInnerTextsAsync())}");
        }
        return [.. await page.Locator(rows).AllInnerTextsAsync()];
    }

    /// <summary>Waits until the list shows exactly these names, in any order.</summary>
    private static async Task ShowsAsync(IPage page, params string[] names)
    {
        const string rows = ".entity-list tbody tr td:first-child a";
        try
        {
            await page.WaitForFunctionAsync(
                "([s, want]) => JSON.stringify([...document.querySelectorAll(s)].map(a => a.textContent.trim()).sort()) === JSON.stringify(want)",
                new object[] { rows, names.Order(StringComparer.Ordinal).ToArray() }, new() { PollingInterval = 100, Timeout = 30_000 });
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"the list did not show {string.Join(", ", names)}; it shows {string.Join(", ", await page.Locator(rows).AllInnerTextsAsync())}");
        }
    }

    /// <summary>A local port nothing listens on (bound, then released).</summary>
    private static int DeadPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
