using Gatehouse.Model;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Reliability;

/// <summary>The real gateway (<see cref="GatewayFixture"/>) with one catch-all route to a <see cref="RecordingUpstream"/>,
/// optionally with a filter chain of the repository's test filters (<c>filters/test</c>) on the route.</summary>
public sealed class ReliabilityGateway : IAsyncDisposable
{
    private ReliabilityGateway(GatewayFixture gateway, RecordingUpstream upstream, ServiceModel service, RouteModel route)
    {
        Gateway = gateway;
        Upstream = upstream;
        Service = service;
        Route = route;
    }

    public GatewayFixture Gateway { get; }
    public RecordingUpstream Upstream { get; }
    public ServiceModel Service { get; }
    public RouteModel Route { get; }
    public Uri ProxyUri => Gateway.ProxyUri;
    public int UpstreamPort => Upstream.Port;

    public static async Task<ReliabilityGateway> StartAsync(bool wasm = false)
    {
        var upstream = new RecordingUpstream();
        var gateway = await GatewayFixture.StartAsync(configure: o => wasm
            ? o with { Wasm = true, WasmFiltersPath = Path.Combine(Wasm.WasmPaths.Repo, "filters", "test") }
            : o);
        var service = TestConfig.Service("127.0.0.1", upstream.Port, name: "recording");
        var route = TestConfig.Route(service, "all", paths: ["/"]);
        var result = new ReliabilityGateway(gateway, upstream, service, route);
        result.Publish();
        return result;
    }

    /// <summary>Publishes the route, with a route filter chain when <paramref name="filters"/> are given.</summary>
    public void Publish(params FilterEntryModel[] filters)
    {
        var config = TestConfig.Of([Service], [Route]);
        if (filters.Length > 0)
            config = config with { FilterChains = [new FilterChainModel { Id = Guid.NewGuid(), RouteId = Route.Id, Filters = [.. filters] }] };
        Gateway.Publish(config);
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
