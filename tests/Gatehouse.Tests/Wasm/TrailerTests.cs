using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Model;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary>HTTP trailers through the proxy and the Proxy-Wasm trailer phases: an h2c upstream (gRPC-style
/// <c>grpc-status</c> trailer) answering an HTTP/2 client, with and without the <c>trailers</c> test filter
/// (filters/test/trailers.c), and a chunked HTTP/1.1 request with trailers.</summary>
public sealed class TrailerTests : IAsyncLifetime
{
    private WebApplication _upstream = null!;
    private EchoUpstream _echo = null!;
    private GatewayFixture _gateway = null!;
    private string _filters = null!;
    private ServiceModel _grpc = null!;
    private ServiceModel _http = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        _upstream = builder.Build();
        _upstream.Run(async http =>
        {
            await new StreamReader(http.Request.Body).ReadToEndAsync();
            http.Response.DeclareTrailer("grpc-status");
            await http.Response.WriteAsync("trailered body");
            http.Response.AppendTrailer("grpc-status", "0");
            http.Response.AppendTrailer("x-upstream-note", "original");
        });
        await _upstream.StartAsync();
        var port = new Uri(_upstream.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()).Port;
        _echo = await EchoUpstream.StartAsync();
        _filters = WasmPaths.CopyFilters(Path.Combine(WasmPaths.Repo, "filters", "test"), "trailers");
        _gateway = await GatewayFixture.StartAsync(configure: o => o with { Wasm = true, WasmFiltersPath = _filters });
        _grpc = TestConfig.Service("127.0.0.1", port, name: "h2c") with { Protocol = "grpc" };
        _http = TestConfig.Service(_echo, name: "echo");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        await _echo.DisposeAsync();
        Directory.Delete(_filters, recursive: true);
    }

    private void Publish(bool filter)
    {
        var grpcRoute = TestConfig.Route(_grpc, "grpc", paths: ["/pkg.Svc"]) with { StripPath = false };
        var httpRoute = TestConfig.Route(_http, "http", paths: ["/echo"]);
        FilterChainModel[] chains = filter
            ?
            [
                new() { Id = Guid.NewGuid(), RouteId = grpcRoute.Id, Filters = [new FilterEntryModel("trailers", true, "")] },
                new() { Id = Guid.NewGuid(), RouteId = httpRoute.Id, Filters = [new FilterEntryModel("trailers", true, "")] },
            ]
            : [];
        _gateway.Publish(TestConfig.Of([_grpc, _http], [grpcRoute, httpRoute]) with { FilterChains = [.. chains] });
    }

    private async Task<(string Body, HttpResponseMessage Response)> CallH2Async()
    {
        using var client = _gateway.CreateClient(HttpVersion.Version20);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_gateway.H2cUri!, "/pkg.Svc/Call"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new StringContent("ping"),
        };
        var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync(); // trailers are read with the end of the body
        return (body, response);
    }

    [Fact]
    public async Task Upstream_trailers_reach_an_http2_client_unchanged_without_filters()
    {
        Publish(filter: false);
        var (body, response) = await CallH2Async();
        using var _ = response;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("trailered body", body);
        Assert.Equal(["0"], response.TrailingHeaders.GetValues("grpc-status"));
        Assert.Equal(["original"], response.TrailingHeaders.GetValues("x-upstream-note"));
    }

    [Fact]
    public async Task A_filter_sees_the_upstream_trailers_after_the_body_and_its_changes_reach_the_client()
    {
        Publish(filter: true);
        var (body, response) = await CallH2Async();
        using var _ = response;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("trailered body", body);
        // on_response_trailers(ctx, 2): the count, a value read from the map, an edit and an addition
        Assert.Equal(["2"], response.TrailingHeaders.GetValues("x-filter-trailer-count"));
        Assert.Equal(["0"], response.TrailingHeaders.GetValues("x-filter-saw"));
        Assert.Equal(["0"], response.TrailingHeaders.GetValues("grpc-status"));
        Assert.Equal(["changed by filter"], response.TrailingHeaders.GetValues("x-upstream-note"));
    }

    [Fact]
    public async Task A_filter_reads_the_clients_request_trailers_which_stay_read_only()
    {
        Publish(filter: true);
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, _gateway.ProxyUri.Port);
        await client.SendAsync(Encoding.ASCII.GetBytes(
            "POST /echo HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
            "4\r\nping\r\n0\r\nX-Client-Trailer: hello\r\n\r\n"));
        var answer = new StringBuilder();
        var buffer = new byte[8192];
        int n;
        while ((n = await client.ReceiveAsync(buffer)) > 0) answer.Append(Encoding.ASCII.GetString(buffer, 0, n));
        var text = answer.ToString();
        Assert.StartsWith("HTTP/1.1 200", text);
        Assert.Contains("\r\nx-filter-request-trailer: hello\r\n", text, StringComparison.Ordinal);
        Assert.Contains("\r\nx-filter-request-trailer-count: 1\r\n", text, StringComparison.Ordinal);
        Assert.Contains("\r\nx-filter-request-trailer-write: 2\r\n", text, StringComparison.Ordinal); // BadArgument
        Assert.Contains("\"body\":\"ping\"", text, StringComparison.Ordinal);
    }
}
