using Microsoft.Playwright;

namespace Gatehouse.Tests.Manager;

/// <summary>
/// One headless Debian <c>chromium</c> (no browser download: <c>ExecutablePath</c>) driven by Playwright for the
/// Manager's browser tests; pages at 1280×800 that record console errors. Screenshots of the main pages are written
/// to <c>docs/manager/</c> only when <c>GATEHOUSE_MANAGER_SCREENSHOTS=1</c>.
/// </summary>
public sealed class ManagerBrowser : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public static bool Screenshots => Environment.GetEnvironmentVariable("GATEHOUSE_MANAGER_SCREENSHOTS") == "1";

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install Debian's chromium package (.ci/run does)");
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            // root in CI containers has no user namespace for the sandbox
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
    }

    /// <summary>A page whose console errors and uncaught exceptions are collected in <paramref name="errors"/>. The
    /// browser's own line for an HTTP error answer the page expected (a 400 with Kong's field errors) is not one.</summary>
    public async Task<IPage> NewPageAsync(List<string> errors, int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        // generous: the test machine is shared and often loaded; every wait is on a condition
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource: the server responded with a status of 4", StringComparison.Ordinal))
                lock (errors) errors.Add(message.Text);
        };
        page.PageError += (_, error) => { lock (errors) errors.Add(error); };
        return page;
    }

    /// <summary>Waits until the page's path matches <paramref name="pattern"/> (a regular expression), polling
    /// <c>location.pathname</c>: the app moves with pushState, where Playwright's WaitForURL proved flaky on a loaded
    /// machine. On timeout, fails with what the page shows.</summary>
    public static async Task PathAsync(IPage page, string pattern)
    {
        try
        {
            await page.WaitForFunctionAsync("p => new RegExp(p).test(location.pathname)", pattern, new() { PollingInterval = 100, Timeout = 30_000 });
        }
        catch (TimeoutException)
        {
            var shown = await page.EvaluateAsync<string>("() => location.pathname + ': ' + (document.querySelector('main')?.innerText ?? '')");
            throw new Xunit.Sdk.XunitException($"the page did not reach {pattern}; it shows {shown}");
        }
    }

    public static async Task ShotAsync(IPage page, string name)
    {
        if (!Screenshots) return;
        var dir = Path.Combine(Wasm.WasmPaths.Repo, "docs", "manager");
        Directory.CreateDirectory(dir);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(dir, name + ".png") });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
    }
}
