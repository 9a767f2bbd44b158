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

    [Fact]
    public void TableHasAtLeastFortyCases() => Assert.True(RouteTableCases.All().Count() >= 40);

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
