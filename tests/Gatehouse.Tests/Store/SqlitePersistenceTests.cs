using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Gatehouse.Hosting;
using Gatehouse.Config;
using Gatehouse.Store;
using Gatehouse.Store.Postgres;
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
        // a PostgreSQL node also re-reads and publishes whenever its change listener (re)connects or a poll cannot rule
        // out a missed event (after a failed read), at times of its own: those reloads are counted to tell them apart
        var listener = host.Services.GetServices<IHostedService>().OfType<PostgresChangeListener>().SingleOrDefault();
        Assert.Equal(kind == AdminStore.Postgres, listener is not null);
        var versions = new List<long>();
        host.Publisher.Published += c => { lock (versions) versions.Add(c.Version); };
        var reloadsBefore = listener?.ReloadsCompleted ?? 0;
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

        int Published() { lock (versions) return versions.Count; }
        if (listener is null) Assert.Equal(4, Published());
        else
        {
            // every publish beyond the four changes is one of the listener's reloads (one still running is waited for;
            // a reload that failed counts without publishing, so this is a bound, not an equality)
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (Published() - 4 > listener.ReloadsCompleted - reloadsBefore && DateTime.UtcNow < deadline) await Task.Delay(20);
            Assert.InRange(Published() - 4, 0, listener.ReloadsCompleted - reloadsBefore);
        }
        lock (versions) Assert.Equal(Enumerable.Range(1, versions.Count).Select(i => start + i), versions);
    }
}
