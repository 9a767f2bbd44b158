using System.Buffers.Binary;
using System.Text.Json.Nodes;
using Gatehouse.Model;
using Gatehouse.Tests.Infrastructure;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary>
/// The Envoy request/connection attributes Gatehouse answers (docs/proxy-wasm-conformance.md), read by the real C
/// <c>phases</c> filter (its <c>get_property</c> action reports each value in an <c>x-property-&lt;name&gt;</c> response
/// header; binary values as <c>hex:…</c>, failures as <c>!status=&lt;n&gt;</c>) on the real gateway.
/// </summary>
public sealed class EnvoyAttributePropertyTests : IAsyncLifetime
{
    private static readonly string[] Names =
    [
        "request.id", "request.protocol", "request.time", "request.path", "request.url_path", "request.query", "request.method",
        "request.scheme", "request.host", "request.headers.x-attr", "source.address", "source.port",
        "destination.address", "destination.port", "connection.mtls", "upstream.address", "request.total_size",
    ];

    private readonly string _filters = WasmPaths.CopyFilters(Path.Combine(WasmPaths.Repo, "filters", "test"), "phases");
    private EchoUpstream _upstream = null!;
    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await EchoUpstream.StartAsync();
        _gateway = await GatewayFixture.StartAsync(configure: o => o with
        {
            Wasm = true, WasmFiltersPath = _filters,
            Headers = new HashSet<string> { "server_tokens", "latency_tokens", "x-kong-request-id" }, // to compare request.id
        });
        var service = TestConfig.Service(_upstream);
        var route = TestConfig.Route(service, "r", paths: ["/"]);
        var reads = new JsonArray([.. Names.Select(n => (JsonNode)new JsonObject { ["action"] = "get_property", ["name"] = n })]);
        var config = new JsonObject
        {
            ["request_headers"] = reads,
            ["response_headers"] = new JsonArray(
                new JsonObject { ["action"] = "get_property", ["name"] = "response.code" },
                new JsonObject { ["action"] = "get_property", ["name"] = "response.headers.content-type" }),
        };
        _gateway.Publish(TestConfig.Of([service], [route]) with
        {
            FilterChains = [new FilterChainModel { Id = Guid.NewGuid(), RouteId = route.Id, Filters = [new("phases", true, config.ToJsonString())] }],
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        Directory.Delete(_filters, true);
    }

    private static long Int64(string reported)
    {
        Assert.StartsWith("hex:", reported);
        return BinaryPrimitives.ReadInt64LittleEndian(Convert.FromHexString(reported[4..]));
    }

    [Fact]
    public async Task Request_and_connection_attributes_come_from_the_request_and_others_are_not_found()
    {
        var request = ProxyRequests.Get("/attrs?x=1");
        request.Headers.Add("X-Request-Id", "req-42");
        request.Headers.Add("X-Attr", "a1");
        var before = DateTimeOffset.UtcNow;
        using var response = await _gateway.Client.SendAsync(request);
        var after = DateTimeOffset.UtcNow;
        Assert.Equal(200, (int)response.StatusCode);
        string Reported(string name) => response.Single("x-property-" + name) ?? throw new InvalidOperationException("no report of " + name);

        Assert.Equal("req-42", Reported("request.id"));
        Assert.Equal("HTTP/1.1", Reported("request.protocol"));
        var time = DateTimeOffset.UnixEpoch.AddTicks(Int64(Reported("request.time")) / 100);
        Assert.InRange(time, before.AddMilliseconds(-5), after); // ms-rounding of the clocks aside, within the exchange
        Assert.Equal("/attrs?x=1", Reported("request.path"));
        Assert.Equal("/attrs", Reported("request.url_path"));
        Assert.Equal("x=1", Reported("request.query"));
        Assert.Equal("GET", Reported("request.method"));
        Assert.Equal("http", Reported("request.scheme"));
        Assert.Equal($"127.0.0.1:{_gateway.ProxyUri.Port}", Reported("request.host"));
        Assert.Equal("a1", Reported("request.headers.x-attr"));

        var source = Reported("source.address");
        Assert.Matches(@"^127\.0\.0\.1:\d+$", source);
        Assert.Equal(int.Parse(source.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture), Int64(Reported("source.port")));
        Assert.Equal($"127.0.0.1:{_gateway.ProxyUri.Port}", Reported("destination.address"));
        Assert.Equal(_gateway.ProxyUri.Port, Int64(Reported("destination.port")));
        Assert.Equal(200, Int64(Reported("response.code")));
        Assert.Equal(response.Content.Headers.ContentType!.ToString(), Reported("response.headers.content-type"));

        // documented as not available: NOT_FOUND (1); connection.mtls over plain HTTP, as ngx_wasm_module
        Assert.Equal("!status=1", Reported("connection.mtls"));
        Assert.Equal("!status=1", Reported("upstream.address"));
        // the request head's bytes so far, an int64 (exact figures: TotalSizePropertyTests)
        Assert.InRange(Int64(Reported("request.total_size")), 20, 4096);
    }

    [Fact]
    public async Task Request_id_without_the_header_is_the_gateways_request_id()
    {
        using var response = await _gateway.Client.SendAsync(ProxyRequests.Get("/"));
        var id = response.Single("X-Gatehouse-Request-Id");
        Assert.False(string.IsNullOrEmpty(id));
        Assert.Equal(id, response.Single("x-property-request.id"));
    }
}
