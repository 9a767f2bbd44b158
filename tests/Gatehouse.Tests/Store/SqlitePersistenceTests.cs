using Gatehouse.Hosting;
using Gatehouse.Config;
using Gatehouse.Store;
using Gatehouse.Tests.Admin;

namespace Gatehouse.Tests.Store;

public sealed class SqlitePersistenceTests
{
    [Theory]
    [InlineData(AdminStore.Sqlite)]
    [InlineData(AdminStore.Postgres)]
    public async Task State_survives_restart_with_a_new_store_on_the_same_file(AdminStore kind)
    {
        using var dir = new TempDir();
        var options = kind == AdminStore.Sqlite
            ? new GatehouseOptions { Database = DatabaseKind.Sqlite, SqlitePath = dir.File("nested/dir/gh.db") }
            : await AdminTestHost.FreshStoreAsync(kind, dir);
        string serviceId;
        await using (var first = await AdminTestHost.StartAsync(options))
        {
            serviceId = (string)(await first.PostAsync("/services", new { name = "persist", url = "http://p.test:81" })).Body!["id"]!;
            Assert.Equal(201, (await first.PostAsync("/services/persist/routes", new { name = "pr", paths = new[] { "/p" } })).Status);
        }
        await using var second = await AdminTestHost.StartAsync(options);
        var (status, svc) = await second.GetAsync("/services/persist");
        Assert.Equal(200, status);
        Assert.Equal(serviceId, (string?)svc!["id"]);
        Assert.Equal(81, (int)svc["port"]!);
        var config = second.Publisher.Current;
        Assert.Equal("p.test", Assert.Single(config.Services).Host);
        Assert.Equal(Guid.Parse(serviceId), Assert.Single(config.Routes).ServiceId);
        Assert.Equal(409, (await second.PostAsync("/services", new { name = "persist", host = "x.test" })).Status);
    }

    [Theory]
    [InlineData(AdminStore.Sqlite)]
    [InlineData(AdminStore.Postgres)]
    public async Task Every_change_publishes_a_higher_version_with_typed_models(AdminStore kind)
    {
        using var dir = new TempDir();
        await using var host = await AdminTestHost.StartOnAsync(kind, dir);
        var versions = new List<long>();
        host.Publisher.Published += c => versions.Add(c.Version);
        var start = host.Publisher.Current.Version;
        Assert.True(start >= 1);

        await host.PostAsync("/services", new { name = "m", url = "https://m.test/base", retries = 2, tags = new[] { "t" } });
        var svc = Assert.Single(host.Publisher.Current.Services);
        Assert.Equal(("https", "m.test", 443, "/base", 2), (svc.Protocol, svc.Host, svc.Port, svc.Path, svc.Retries));
        Assert.Equal(["t"], svc.Tags);

        await host.PostAsync("/routes", new
        {
            name = "mr", hosts = new[] { "*.m.test" }, paths = new[] { "~/v\\d+" }, methods = new[] { "GET" },
            headers = new Dictionary<string, string[]> { ["X-Env"] = ["prod"] }, strip_path = false, service = new { id = svc.Id },
        });
        var route = Assert.Single(host.Publisher.Current.Routes);
        Assert.Equal(svc.Id, route.ServiceId);
        Assert.Equal(["*.m.test"], route.Hosts);
        Assert.Equal(["~/v\\d+"], route.Paths);
        Assert.Equal(["prod"], route.Headers["x-env"]);
        Assert.False(route.StripPath);

        await host.SendAsync(HttpMethod.Patch, "/routes/mr", new { regex_priority = 7 });
        Assert.Equal(7, Assert.Single(host.Publisher.Current.Routes).RegexPriority);
        await host.SendAsync(HttpMethod.Delete, "/routes/mr");
        Assert.Empty(host.Publisher.Current.Routes);
        await host.PostAsync("/services", new { host = "bad:port:x" }); // rejected: no publish

        // a PostgreSQL node also re-reads once when its change listener (re)connects, whenever that lands
        if (kind == AdminStore.Sqlite) Assert.Equal(4, versions.Count);
        else Assert.InRange(versions.Count, 4, 5);
        Assert.Equal(Enumerable.Range(1, versions.Count).Select(i => start + i), versions);
    }
}
