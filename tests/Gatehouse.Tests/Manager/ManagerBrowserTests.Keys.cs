using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Manager;

/// <summary>The keys, key sets and vaults pages (issue 17): made, edited and deleted through the UI, with Kong's
/// errors shown on the field they concern.</summary>
public sealed partial class ManagerBrowserTests
{
    [Fact]
    public async Task Keys_key_sets_and_vaults_are_made_edited_and_deleted_in_the_ui_with_kongs_errors_on_the_field()
    {
        await using var gateway = await StartAsync();
        var errors = new List<string>();
        var page = await browser.NewPageAsync(errors);

        // a key set, and from its page a key in it
        await page.GotoAsync(Ui(gateway, "/key-sets/new"));
        await page.FillAsync("#f-name", "ui-set");
        await page.ClickAsync("button:text-is('Create')");
        await ManagerBrowser.PathAsync(page, "/key-sets/[0-9a-f-]{36}$");
        var setUrl = page.Url;
        var setId = setUrl[^36..];
        await page.ClickAsync("a:text-is('New key')");
        await page.FillAsync("#f-name", "ui-key");
        await page.FillAsync("#f-kid", "kid-1");
        await page.FillAsync("[id='f-pem.private_key']", "not a key");
        await page.ClickAsync("button:text-is('Create')");
        // Kong's error of the pem record, shown on it
        var pemError = page.Locator("[id='f-pem-error']");
        await pemError.WaitForAsync();
        Assert.Contains("could not load private key", await pemError.InnerTextAsync());
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await page.FillAsync("[id='f-pem.private_key']", ec.ExportPkcs8PrivateKeyPem());
        await page.FillAsync("[id='f-pem.public_key']", ec.ExportSubjectPublicKeyInfoPem());
        await page.ClickAsync("button:text-is('Create')");
        await ManagerBrowser.PathAsync(page, "/keys/[0-9a-f-]{36}$");
        var key = JsonNode.Parse(await gateway.Admin.GetStringAsync("/keys/ui-key"))!;
        Assert.Equal("kid-1", (string?)key["kid"]);
        Assert.Equal(setId, (string?)key["set"]?["id"]);

        // edit: a JWK beside the PEM is refused by Kong's entity check, shown above the buttons
        await page.ClickAsync("a:text-is('Edit')");
        await page.FillAsync("#f-jwk", """{"kty":"oct","k":"c2VjcmV0","kid":"kid-1"}""");
        await page.ClickAsync("button:text-is('Save')");
        var formError = page.Locator("[data-test='form-error']");
        await formError.WaitForAsync();
        Assert.Contains("only one or none of these fields must be set", await formError.InnerTextAsync());
        await page.FillAsync("#f-jwk", "");
        await page.FillAsync("#f-tags", "signing");
        await page.ClickAsync("button:text-is('Save')");
        await ManagerBrowser.PathAsync(page, "/keys/[0-9a-f-]{36}$");
        await Eventually.TrueAsync(async () => (string?)JsonNode.Parse(await gateway.Admin.GetStringAsync("/keys/ui-key"))!["tags"]?[0] == "signing", within: TimeSpan.FromSeconds(30));

        // the set's page lists its key; deleting the set (two steps) deletes the key with it, as Kong's cascade
        await page.GotoAsync(setUrl);
        await page.WaitForSelectorAsync("td a:text-is('ui-key')");
        await ManagerBrowser.ShotAsync(page, "key-set");
        await page.GotoAsync(Ui(gateway, "/key-sets"));
        await page.ClickAsync("button[aria-label='Delete key set ui-set']");
        await page.ClickAsync("button:text-is('Confirm delete')");
        await page.WaitForSelectorAsync("td.empty");
        using (var gone = await gateway.Admin.GetAsync("/keys/ui-key"))
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);

        // a vault: Kong's field errors (prefix pattern, a strategy that is not installed) on their fields
        await page.GotoAsync(Ui(gateway, "/vaults/new"));
        await page.FillAsync("#f-prefix", "Bad_Prefix");
        await page.FillAsync("#f-name", "hcv");
        await page.ClickAsync("button:text-is('Create')");
        await page.Locator("#f-prefix-error").WaitForAsync();
        Assert.Contains("invalid value: Bad_Prefix", await page.InnerTextAsync("#f-prefix-error"));
        Assert.Contains("vault 'hcv' is not installed", await page.InnerTextAsync("#f-name-error"));
        await page.FillAsync("#f-prefix", "my-env");
        await page.FillAsync("#f-name", "env");
        await page.FillAsync("[id='f-config.prefix']", "GH_");
        await page.ClickAsync("button:text-is('Create')");
        await ManagerBrowser.PathAsync(page, "/vaults/[0-9a-f-]{36}$");
        var vault = JsonNode.Parse(await gateway.Admin.GetStringAsync("/vaults/my-env"))!;
        Assert.Equal("GH_", (string?)vault["config"]?["prefix"]);
        await page.ClickAsync("a:text-is('Edit')");
        await page.FillAsync("#f-description", "environment variables");
        await page.ClickAsync("button:text-is('Save')");
        await page.WaitForSelectorAsync("dd code:text-is('environment variables')");
        await ManagerBrowser.ShotAsync(page, "vault");
        await page.ClickAsync("button:text-is('Delete')");
        await page.ClickAsync("button:text-is('Confirm delete')");
        await ManagerBrowser.PathAsync(page, "/vaults$");
        await page.WaitForSelectorAsync("td.empty");
        using (var gone = await gateway.Admin.GetAsync("/vaults/my-env"))
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Empty(errors);
    }
}
