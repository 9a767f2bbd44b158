using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Plugins;

/// <summary>file-log, http-log (batched), prometheus (/metrics on the status listener) and proxy-cache.</summary>
public sealed class ObservabilityPluginTests : IAsyncLifetime
{
    private PluginGateway _gw = null!;

    public async Task InitializeAsync()
    {
        _gw = await PluginGateway.StartAsync();
        await _gw.ServiceAndRouteAsync("svc", "/api");
    }

    public async Task DisposeAsync() => await _gw.DisposeAsync();

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 250 && !condition(); i++) await Task.Delay(20);
        Assert.True(condition(), "condition not reached within 5 s");
    }

    [Fact]
    public async Task File_log_appends_one_json_line_per_request()
    {
        var path = Path.Combine(_gw.Prefix, "requests.log");
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "file-log", config = new { path } });
        (await _gw.Proxy.GetAsync("/api/one?x=1")).Dispose();
        (await _gw.Proxy.GetAsync("/api/two")).Dispose();
        await WaitUntil(() => File.Exists(path) && File.ReadAllLines(path).Length == 2);
        var first = JsonNode.Parse(File.ReadAllLines(path)[0])!;
        Assert.Equal("/api/one?x=1", (string?)first["request"]!["uri"]);
        Assert.Equal(200, (int)first["response"]!["status"]!);
        Assert.Equal("svc-route", (string?)first["route"]!["name"]);
        Assert.Equal("svc", (string?)first["service"]!["name"]);
    }

    [Fact]
    public async Task Http_log_sends_batches_to_the_endpoint()
    {
        var received = new ConcurrentQueue<string>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var collector = builder.Build();
        collector.MapPost("/logs", async (HttpContext ctx) =>
        {
            using var reader = new StreamReader(ctx.Request.Body);
            received.Enqueue(await reader.ReadToEndAsync());
        });
        await collector.StartAsync();
        await _gw.CreateAsync("/routes/svc-route/plugins", new
        {
            name = "http-log",
            config = new { http_endpoint = collector.Urls.First() + "/logs", queue = new { max_batch_size = 3, max_coalescing_delay = 0.2 } },
        });
        for (var i = 0; i < 3; i++) (await _gw.Proxy.GetAsync($"/api/{i}")).Dispose();
        await WaitUntil(() => received.Sum(b => JsonNode.Parse(b)!.AsArray().Count) == 3);
        var uris = received.SelectMany(b => JsonNode.Parse(b)!.AsArray()).Select(e => (string)e!["request"]!["uri"]!).Order().ToArray();
        Assert.Equal(["/api/0", "/api/1", "/api/2"], uris);
        await collector.StopAsync();
    }

    [Fact]
    public async Task Prometheus_counts_requests_latency_and_bandwidth_per_route()
    {
        await _gw.CreateAsync("/plugins", new
        {
            name = "prometheus", config = new { status_code_metrics = true, latency_metrics = true, bandwidth_metrics = true },
        });
        (await _gw.Proxy.GetAsync("/api")).Dispose();
        (await _gw.Proxy.GetAsync("/api")).Dispose();
        (await _gw.Proxy.GetAsync("/nowhere")).Dispose();
        using var client = new HttpClient();
        string text = "";
        await WaitUntil(() =>
        {
            text = client.GetStringAsync(new Uri(_gw.StatusUri, "/metrics")).GetAwaiter().GetResult();
            return text.Contains("kong_http_requests_total{service=\"svc\",route=\"svc-route\",code=\"200\",source=\"service\",consumer=\"\"} 2", StringComparison.Ordinal);
        });
        Assert.Contains("code=\"404\",source=\"kong\"", text, StringComparison.Ordinal);
        Assert.Contains("kong_request_latency_ms_count{service=\"svc\",route=\"svc-route\"} 2", text, StringComparison.Ordinal);
        Assert.Contains("kong_bandwidth_bytes{service=\"svc\",route=\"svc-route\",direction=\"egress\"}", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_cache_misses_then_hits_with_the_same_body()
    {
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "proxy-cache", config = new { strategy = "memory" } });
        using var first = await _gw.Proxy.GetAsync("/api/c?v=1");
        Assert.Equal("Miss", first.Single("X-Cache-Status"));
        var body = await first.Content.ReadAsStringAsync();
        using var second = await _gw.Proxy.GetAsync("/api/c?v=1");
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("Hit", second.Single("X-Cache-Status"));
        Assert.Equal(first.Single("X-Cache-Key"), second.Single("X-Cache-Key"));
        Assert.Equal(body, await second.Content.ReadAsStringAsync());
        using var other = await _gw.Proxy.GetAsync("/api/c?v=2");
        Assert.Equal("Miss", other.Single("X-Cache-Status"));
        using var post = await _gw.Proxy.PostAsync("/api/c?v=1", new StringContent("x"));
        Assert.Equal("Bypass", post.Single("X-Cache-Status"));
    }
}
