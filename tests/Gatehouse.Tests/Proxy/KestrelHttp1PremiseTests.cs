using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Proxy;

/// <summary>What the proxy's HTTP/1.x fast paths take from Kestrel: an HTTP/1.x response has no trailers feature
/// (GatehouseTransformer.TransformResponseTrailersAsync then does nothing, not even the lookup), an HTTP/2 one has.</summary>
public sealed class KestrelHttp1PremiseTests
{
    [Theory]
    [InlineData("1.0", "none")]
    [InlineData("1.1", "none")]
    [InlineData("2.0", "trailers")]
    public async Task Only_http2_responses_have_a_trailers_feature(string version, string expected)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0,
            l => l.Protocols = version == "2.0" ? Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2
                : Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1));
        await using var app = builder.Build();
        app.Run(http => http.Response.WriteAsync(
            http.Features.Get<IHttpResponseTrailersFeature>()?.Trailers is { IsReadOnly: false } ? "trailers" : "none"));
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, address)
        {
            Version = Version.Parse(version),
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var response = await client.SendAsync(request);
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
        await app.StopAsync();
    }
}
