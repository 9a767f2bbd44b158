using System.Collections.Immutable;
using Gatehouse.Model;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>Builds GatewayConfig values directly (no store): services pointing at an echo upstream and routes.</summary>
public static class TestConfig
{
    public static ServiceModel Service(EchoUpstream upstream, string? path = null, string name = "echo") => new()
    {
        Id = Guid.NewGuid(),
        Name = name,
        Host = upstream.Host,
        Port = upstream.Port,
        Path = path,
    };

    public static ServiceModel Service(string host, int port, string? path = null, string name = "svc") => new()
    {
        Id = Guid.NewGuid(),
        Name = name,
        Host = host,
        Port = port,
        Path = path,
    };

    /// <summary>A route on <paramref name="service"/>; created_at increases with each call so order is stable.</summary>
    public static RouteModel Route(ServiceModel? service, string name, string[]? paths = null, string[]? hosts = null,
        string[]? methods = null, Dictionary<string, IReadOnlyList<string>>? headers = null) => new()
    {
        Id = Guid.NewGuid(),
        Name = name,
        ServiceId = service?.Id,
        Paths = paths ?? [],
        Hosts = hosts ?? [],
        Methods = methods ?? [],
        Headers = headers ?? new Dictionary<string, IReadOnlyList<string>>(),
        CreatedAt = Interlocked.Increment(ref _clock),
    };

    public static GatewayConfig Of(IEnumerable<ServiceModel> services, IEnumerable<RouteModel> routes) => new()
    {
        Services = services.ToImmutableArray(),
        Routes = routes.ToImmutableArray(),
    };

    private static long _clock = 1_700_000_000;
}
