using System.Net;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Routing;

/// <summary>Every <see cref="RouteTableCases"/> row through the real gateway to the real echo upstream.</summary>
public sealed class RouteTableTests : IClassFixture<RouteTableTests.Servers>
{
    public sealed class Servers : IAsyncLifetime
    {
        public EchoUpstream Upstream { get; private set; } = null!;
        public GatewayFixture Gateway { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Upstream = await EchoUpstream.StartAsync();
            Gateway = await GatewayFixture.StartAsync();
        }

        public async Task DisposeAsync()
        {
            await Gateway.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }

    private readonly Servers _servers;

    public RouteTableTests(Servers servers) => _servers = servers;

    public static TheoryData<RouteCase> Cases()
    {
        var data = new TheoryData<RouteCase>();
        foreach (var c in RouteTableCases.All()) data.Add(c);
        return data;
    }

    /// <summary>The cases where several routes compete, to be run again with the routes listed in reverse.</summary>
    public static TheoryData<RouteCase> PriorityCases()
    {
        var data = new TheoryData<RouteCase>();
        var probe = TestConfig.Service("probe.test", 80);
        foreach (var c in RouteTableCases.All().Where(c => c.Routes(probe).Length > 1 && c.ExpectRoute is not null))
            data.Add(c with { Name = c.Name + " (routes reversed)", Routes = s => [.. c.Routes(s).Reverse()] });
        return data;
    }

    /// <summary>The table's content: every matching attribute both matches and misses, and the competing-route
    /// cases cover each priority rule with the winner listed first in some and last in others (so list order alone
    /// cannot pass them; <see cref="PriorityDoesNotDependOnListOrder"/> runs them reversed).</summary>
    [Fact]
    public void TableMatchesAndMissesOnEveryAttributeAndCoversThePriorities()
    {
        var probe = TestConfig.Service("probe.test", 80);
        var cases = RouteTableCases.All().Select(c => (Case: c, Routes: c.Routes(probe))).ToList();
        var attributes = new (string Name, Func<Gatehouse.Model.RouteModel, bool> Uses)[]
        {
            ("hosts", r => r.Hosts.Count > 0), ("wildcard hosts", r => r.Hosts.Any(h => h.Contains('*'))),
            ("prefix paths", r => r.Paths.Any(p => !p.StartsWith('~'))), ("regex paths", r => r.Paths.Any(p => p.StartsWith('~'))),
            ("methods", r => r.Methods.Count > 0), ("headers", r => r.Headers.Count > 0),
        };
        foreach (var (name, uses) in attributes)
        {
            Assert.True(cases.Any(c => c.Routes.Length == 1 && uses(c.Routes[0]) && c.Case.ExpectRoute is not null), $"no case where {name} match");
            Assert.True(cases.Any(c => c.Routes.Length == 1 && uses(c.Routes[0]) && c.Case.ExpectRoute is null), $"no case where {name} miss");
        }
        var competing = cases.Where(c => c.Routes.Length > 1 && c.Case.ExpectRoute is not null).ToList();
        Assert.All(competing, c => Assert.Contains(c.Routes, r => r.Name == c.Case.ExpectRoute));
        Assert.Contains(competing, c => c.Routes[0].Name == c.Case.ExpectRoute);
        Assert.Contains(competing, c => c.Routes[^1].Name == c.Case.ExpectRoute);
        // Kong's order: more attributes, plain host over wildcard, regex over prefix, regex_priority, longer prefix,
        // creation time
        string[] rules = ["plain host beats wildcard", "regex beats prefix", "regex_priority", "longest prefix wins",
            "method route beats path-only", "header route beats plain", "host+path beats path", "more attributes beat a longer path",
            "creation order breaks ties"];
        Assert.All(rules, rule => Assert.Contains(competing, c => c.Case.Name == rule));
    }

    [Theory]
    [MemberData(nameof(PriorityCases))]
    public Task PriorityDoesNotDependOnListOrder(RouteCase c) => RoutesLikeKong(c);

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task RoutesLikeKong(RouteCase c)
    {
        var service = TestConfig.Service(_servers.Upstream, c.ServicePath);
        _servers.Gateway.Publish(TestConfig.Of([service], c.Routes(service)));
        using var request = ProxyRequests.Get(c.Path, c.Host, c.Method);
        foreach (var (name, value) in c.Headers ?? []) request.Headers.TryAddWithoutValidation(name, value);

        using var response = await _servers.Gateway.Client.SendAsync(request);

        if (c.ExpectRoute is null)
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("{\"message\":\"no Route matched with those values\"}", await response.Content.ReadAsStringAsync());
            return;
        }
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(c.ExpectRoute, response.Single("Gatehouse-Route-Name"));
        var echo = await response.EchoAsync();
        Assert.Equal(c.Method, echo.Method);
        if (c.ExpectUpstreamPath is not null) Assert.Equal(c.ExpectUpstreamPath, echo.Path);
        if (c.ExpectUpstreamHost is not null)
            Assert.Equal(c.ExpectUpstreamHost.Replace("{port}", _servers.Upstream.Port.ToString(), StringComparison.Ordinal), echo.Header("host"));
    }
}
