using Gatehouse.Proxy;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Tests.Store;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Hosting;

/// <summary>Kong's <c>plugins</c> conf key: only the listed plugins are available (Admin API, declarative files,
/// <c>GET /</c>); <c>bundled</c> and <c>off</c> as Kong; an unknown name stops the start.</summary>
public sealed class PluginsKeyTests
{
    private static GatewayHost Create(GatehouseOptions options) => GatewayHost.Create(options with
    {
        ProxyListen = [ListenAddress.Parse("127.0.0.1:0")],
        AdminListen = [ListenAddress.Parse("127.0.0.1:0")],
        AdminGuiListen = [],
        ProxyAccessLog = null,
        LogLevel = "error",
    }, new GatewayHostOptions { ConfigureLogging = l => l.ClearProviders(), ShutdownTimeout = TimeSpan.FromSeconds(2) });

    private static GatehouseOptions Conf(TempDir dir, string text) =>
        GatehouseConfLoader.LoadText($"prefix = {dir.Path}\nsqlite_path = {dir.File("gh.db")}\n{text}", new Dictionary<string, string?>()).Options
        ?? throw new InvalidOperationException("invalid test conf");

    [Fact]
    public async Task Only_listed_plugins_are_available()
    {
        using var dir = new TempDir();
        await using var host = Create(Conf(dir, "plugins = key-auth, cors"));
        await host.StartAsync();
        using var admin = new HttpClient { BaseAddress = host.Addresses(ListenerKind.Admin).Single() };

        using var refused = await admin.PostAsJsonAsync("/plugins", new { name = "rate-limiting", config = new { minute = 5 } });
        Assert.Equal(400, (int)refused.StatusCode);
        var error = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
        Assert.Equal("plugin 'rate-limiting' not enabled; add it to the 'plugins' configuration property", (string?)error["fields"]!["name"]);
        Assert.Equal("schema violation", (string?)error["name"]);

        using var accepted = await admin.PostAsJsonAsync("/plugins", new { name = "key-auth" });
        Assert.Equal(201, (int)accepted.StatusCode);

        var root = JsonNode.Parse(await admin.GetStringAsync("/"))!;
        Assert.Equal(["cors", "key-auth"], root["plugins"]!["available_on_server"]!.AsObject().Select(p => p.Key).Order());
    }

    [Fact]
    public async Task A_declarative_file_naming_a_plugin_not_listed_fails_the_start()
    {
        using var dir = new TempDir();
        var yml = dir.File("kong.yml");
        await File.WriteAllTextAsync(yml, "_format_version: \"3.0\"\nplugins:\n- name: rate-limiting\n  config:\n    minute: 5\n");
        await using var host = Create(Conf(dir, $"database = off\ndeclarative_config = {yml}\nplugins = cors"));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("plugin 'rate-limiting' not enabled; add it to the 'plugins' configuration property", e.Message);
    }

    [Theory]
    [InlineData("plugins = off", 0)]
    [InlineData("plugins = off, cors", 0)] // Kong: a first "off" wins
    [InlineData("plugins = bundled, cors", -1)]
    [InlineData("", -1)]
    public async Task Off_and_bundled_as_Kong(string line, int expected)
    {
        using var dir = new TempDir();
        await using var host = Create(Conf(dir, line));
        await host.StartAsync();
        using var admin = new HttpClient { BaseAddress = host.Addresses(ListenerKind.Admin).Single() };
        var available = JsonNode.Parse(await admin.GetStringAsync("/"))!["plugins"]!["available_on_server"]!.AsObject();
        if (expected >= 0) Assert.Equal(expected, available.Count);
        else Assert.Equal(Gatehouse.Plugins.PluginCatalog.Bundled.All.Select(p => p.Name).Order(), available.Select(p => p.Key).Order());
    }

    [Fact]
    public void A_name_that_is_not_a_bundled_plugin_stops_the_start()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<InvalidOperationException>(() => Create(Conf(dir, "plugins = bundled-not, cors")));
        Assert.Equal("plugins: bundled-not plugin is enabled but not installed (no bundled plugin has that name)", e.Message);
    }
}
