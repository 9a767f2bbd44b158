using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Gatehouse.Tests.Manager;

/// <summary>The consumer page's credentials (key-auth, basic-auth: the credential plugins Gatehouse implements) and
/// ACL groups: added and deleted in the UI, the proxy following, Kong's errors on the field.</summary>
public sealed partial class ManagerBrowserTests
{
    [Fact]
    public async Task Consumer_credentials_and_acl_groups_added_and_deleted_in_the_ui_change_what_the_proxy_lets_through()
    {
        await using var gateway = await StartAsync();
        var (_, route) = await gateway.ServiceAndRouteAsync("creds", "/creds");
        await gateway.CreateAsync($"/routes/{route}/plugins", new { name = "key-auth" });
        await gateway.CreateAsync($"/routes/{route}/plugins", new { name = "acl", config = new { allow = new[] { "staff" } } });
        var (_, basicRoute) = await gateway.ServiceAndRouteAsync("basic", "/basic");
        await gateway.CreateAsync($"/routes/{basicRoute}/plugins", new { name = "basic-auth" });
        var errors = new List<string>();
        var page = await browser.NewPageAsync(errors);

        await page.GotoAsync(Ui(gateway, "/consumers/new"));
        await page.FillAsync("#f-username", "alice");
        await page.ClickAsync("button:text-is('Create')");
        await ManagerBrowser.PathAsync(page, "/consumers/[0-9a-f-]{36}$");

        // a key and an ACL group: the key passes key-auth and acl
        await page.FillAsync("#key-auth-key", "alice-key");
        await page.ClickAsync("form:has(#key-auth-key) button:text-is('Add')");
        await page.WaitForSelectorAsync("li code:text-is('alice-key')");
        await page.FillAsync("#acls-group", "staff");
        await page.ClickAsync("form:has(#acls-group) button:text-is('Add')");
        await page.WaitForSelectorAsync("li code:text-is('staff')");
        await ProxiedAsync(gateway, "/creds", r => r.Headers.Add("apikey", "alice-key"), HttpStatusCode.OK);

        // basic-auth: Kong's error for a missing username on the field, then a credential that authenticates
        await page.FillAsync("#basic-auth-password", "s3cret");
        await page.ClickAsync("form:has(#basic-auth-username) button:text-is('Add')");
        var usernameError = page.Locator("form:has(#basic-auth-username) .field-error");
        await usernameError.WaitForAsync();
        Assert.Contains("required field missing", await usernameError.InnerTextAsync());
        await page.FillAsync("#basic-auth-username", "alice-basic");
        await page.FillAsync("#basic-auth-password", "s3cret");
        await page.ClickAsync("form:has(#basic-auth-username) button:text-is('Add')");
        await page.WaitForSelectorAsync("li code:text-is('alice-basic')");
        await ProxiedAsync(gateway, "/basic", r => r.Headers.Authorization =
            new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("alice-basic:s3cret"))), HttpStatusCode.OK);
        await ManagerBrowser.ShotAsync(page, "consumer");

        // deleting the ACL group: acl refuses her; deleting the key: key-auth does
        await page.ClickAsync("button[aria-label='Delete group staff']");
        await page.WaitForSelectorAsync("li code:text-is('staff')", new() { State = Microsoft.Playwright.WaitForSelectorState.Detached });
        await ProxiedAsync(gateway, "/creds", r => r.Headers.Add("apikey", "alice-key"), HttpStatusCode.Forbidden);
        await page.ClickAsync("button[aria-label='Delete key alice-key']");
        await page.WaitForSelectorAsync("li code:text-is('alice-key')", new() { State = Microsoft.Playwright.WaitForSelectorState.Detached });
        await ProxiedAsync(gateway, "/creds", r => r.Headers.Add("apikey", "alice-key"), HttpStatusCode.Unauthorized);
        Assert.Empty(errors);
    }

    /// <summary>Waits until the proxy answers <paramref name="expected"/> (a change is published asynchronously).</summary>
    private static async Task ProxiedAsync(Plugins.PluginGateway gateway, string path, Action<HttpRequestMessage> prepare, HttpStatusCode expected)
    {
        for (var i = 0; ; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            prepare(request);
            using var response = await gateway.Proxy.SendAsync(request);
            if (response.StatusCode == expected) return;
            if (i == 300) throw new Xunit.Sdk.XunitException($"{path}: {(int)response.StatusCode}, expected {(int)expected}");
            await Task.Delay(100);
        }
    }
}
