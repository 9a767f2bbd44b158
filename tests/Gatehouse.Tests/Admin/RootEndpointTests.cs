using Gatehouse.Config;

using Gatehouse.Tests.Store;

namespace Gatehouse.Tests.Admin;

public sealed class RootEndpointTests
{
    [Fact]
    public async Task Root_reports_node_and_masks_secrets()
    {
        using var dir = new TempDir();
        var options = new GatehouseOptions
        {
            SqlitePath = dir.File("gh.db"),
            Raw = new Dictionary<string, string>
            {
                ["pg_password"] = "hunter2", ["ssl_cert_key"] = "/etc/key.pem", ["admin_listen"] = "127.0.0.1:8001", ["log_level"] = "debug",
            },
        };
        await using var host = await AdminTestHost.StartAsync(options);
        var (status, root) = await host.GetAsync("/");
        Assert.Equal(200, status);
        Assert.True(Guid.TryParse((string?)root!["node_id"], out _));
        // Kong's release in version (decK reads it), Gatehouse's own beside it: one version source
        Assert.Equal(GatehouseVersion.Kong, (string?)root["version"]);
        Assert.StartsWith("3.9.", (string?)root["version"]);
        Assert.Equal(GatehouseVersion.Current, (string?)root["gatehouse_version"]);
        foreach (var (_, plugin) in root["plugins"]!["available_on_server"]!.AsObject())
            Assert.Equal(GatehouseVersion.Kong, (string?)plugin!["version"]);
        Assert.False(string.IsNullOrEmpty((string?)root["hostname"]));
        var conf = root["configuration"]!;
        Assert.Equal("******", (string?)conf["pg_password"]);
        Assert.Equal("******", (string?)conf["ssl_cert_key"]);
        Assert.Equal("debug", (string?)conf["log_level"]);
        Assert.Equal("127.0.0.1:8001", (string?)conf["admin_listen"]);
        Assert.Empty(conf["wasm_modules_parsed"]!.AsArray());
        Assert.NotNull(root["plugins"]!["available_on_server"]);
        Assert.DoesNotContain("hunter2", root.ToJsonString());

        Assert.Equal(400, (await host.GetAsync("/config")).Status);
        Assert.Equal(405, (await host.SendAsync(HttpMethod.Post, "/", new { })).Status);
    }
}
