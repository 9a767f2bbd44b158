using System.Net;
using Gatehouse.Config;
using Gatehouse.Tests.Admin;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Store;

namespace Gatehouse.Tests.Config;

/// <summary>The effect of conf keys that had a parsing test only (rows of <see cref="ConfKeyCoverage"/>).</summary>
public sealed class ConfKeyEffectTests
{
    /// <summary><c>allow_debug_header</c> (Kong: off): <c>Kong-Debug</c>/<c>Gatehouse-Debug</c> on a request adds the
    /// matched route and service to the response only when the setting is on.</summary>
    [Theory]
    [InlineData(true, "Gatehouse-Debug")]
    [InlineData(true, "Kong-Debug")]
    [InlineData(false, "Gatehouse-Debug")]
    [InlineData(false, "Kong-Debug")]
    public async Task Debug_headers_answer_only_when_allow_debug_header_is_on(bool allowed, string asking)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var service = TestConfig.Service(upstream);
        await using var gateway = await GatewayFixture.StartAsync(TestConfig.Of([service], [TestConfig.Route(service, "dbg", paths: ["/dbg"])]),
            o => o with { AllowDebugHeader = allowed });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/dbg");
        request.Headers.Add(asking, "1");
        using var response = await gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string? Header(string name) => response.Headers.TryGetValues(name, out var v) ? string.Join(",", v) : null;
        Assert.Equal(allowed ? "dbg" : null, Header("Gatehouse-Route-Name"));
        Assert.Equal(allowed ? "echo" : null, Header("Gatehouse-Service-Name"));
        Assert.Equal(allowed ? service.Id.ToString() : null, Header("Gatehouse-Service-Id"));
    }

    /// <summary><c>prefix</c>: without <c>sqlite_path</c> the database is <c>&lt;prefix&gt;/gatehouse.db</c>.</summary>
    [Fact]
    public async Task Prefix_holds_the_sqlite_database_when_no_path_is_set()
    {
        using var dir = new TempDir();
        var prefix = dir.File("node");
        Directory.CreateDirectory(prefix);
        await using (var host = await AdminTestHost.StartAsync(new GatehouseOptions { Database = DatabaseKind.Sqlite, Prefix = prefix }))
            Assert.Equal(201, (await host.PostAsync("/services", new { name = "kept", host = "a.test" })).Status);
        Assert.True(File.Exists(Path.Combine(prefix, "gatehouse.db")));
        await using var again = await AdminTestHost.StartAsync(new GatehouseOptions { Database = DatabaseKind.Sqlite, Prefix = prefix });
        Assert.Equal(200, (await again.GetAsync("/services/kept")).Status);
    }
}
