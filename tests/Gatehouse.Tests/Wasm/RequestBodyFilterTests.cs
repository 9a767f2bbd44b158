using System.Text;
using Gatehouse.Model;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Wasm;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary>on_request_body through the real gateway: a filter that pauses until end of stream (buffering) and
/// rewrites the whole body, which the upstream then receives (filters/test/bench-body).</summary>
public sealed class RequestBodyFilterTests
{
    [Theory]
    [InlineData(80_000)] // several chunks
    [InlineData(6 * 1024 * 1024 + 12_345)] // multi-MiB, byte exact (issue #10 item 5: O(n) buffering)
    public async Task Buffered_request_body_is_rewritten_before_reaching_the_upstream(int length)
    {
        var filters = WasmPaths.CopyFilters(Path.Combine(WasmPaths.Repo, "filters", "test"), "bench-body");
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await GatewayFixture.StartAsync(configure: o => o with { Wasm = true, WasmFiltersPath = filters });
        var service = TestConfig.Service(upstream);
        var route = TestConfig.Route(service, "body", paths: ["/"]);
        gateway.Publish(TestConfig.Of([service], [route]) with
        {
            FilterChains = [new FilterChainModel { Id = Guid.NewGuid(), RouteId = route.Id, Filters = [new("bench-body", true, "")] }],
        });
        var text = string.Concat(Enumerable.Repeat("hello wasm body ", length / 16 + 1))[..length];
        var request = ProxyRequests.Get("/post", method: "POST");
        request.Content = new StringContent(text, Encoding.UTF8, "text/plain");
        using var response = await gateway.Client.SendAsync(request);
        var echo = await response.EchoAsync();
        Assert.Equal(text.Length, echo.Body.Length);
        Assert.True(text.ToUpperInvariant() == echo.Body, "the upstream must receive the filter's rewrite of every byte, in order");
        Directory.Delete(filters, true);
    }

    [Fact]
    public async Task Buffered_request_body_over_the_limit_answers_413()
    {
        var filters = WasmPaths.CopyFilters(Path.Combine(WasmPaths.Repo, "filters", "test"), "bench-body");
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await GatewayFixture.StartAsync(configure: o => o with { Wasm = true, WasmFiltersPath = filters },
            services: s => s.Replace(ServiceDescriptor.Singleton(new WasmGatewayLimits { MaxBufferedRequestBodyBytes = 1000 })));
        var service = TestConfig.Service(upstream);
        var route = TestConfig.Route(service, "body", paths: ["/"]);
        gateway.Publish(TestConfig.Of([service], [route]) with
        {
            FilterChains = [new FilterChainModel { Id = Guid.NewGuid(), RouteId = route.Id, Filters = [new("bench-body", true, "")] }],
        });
        var request = ProxyRequests.Get("/post", method: "POST");
        request.Content = new StringContent(new string('a', 100_000), Encoding.UTF8, "text/plain");
        using var response = await gateway.Client.SendAsync(request);
        Assert.Equal(413, (int)response.StatusCode);
        Directory.Delete(filters, true);
    }

    [Fact]
    public async Task Trap_in_on_request_body_answers_500()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await GatewayFixture.StartAsync(configure: o => o with { Wasm = true, WasmFiltersPath = WasmPaths.KongTests });
        var service = TestConfig.Service(upstream);
        var route = TestConfig.Route(service, "body", paths: ["/"]);
        gateway.Publish(TestConfig.Of([service], [route]) with
        {
            FilterChains = [new FilterChainModel { Id = Guid.NewGuid(), RouteId = route.Id, Filters = [new("tests", true, "")] }],
        });
        var request = ProxyRequests.Get("/post", method: "POST");
        request.Headers.Add("X-PW-Phase", "request_body");
        request.Headers.Add("X-PW-Test", "trap");
        request.Content = new StringContent("payload", Encoding.UTF8, "text/plain");
        using var response = await gateway.Client.SendAsync(request);
        Assert.Equal(500, (int)response.StatusCode);
        Assert.Contains("An unexpected error occurred", await response.Content.ReadAsStringAsync());
    }
}
