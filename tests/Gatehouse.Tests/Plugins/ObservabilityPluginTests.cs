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

    [Fact]
    public async Task File_log_appends_one_json_line_per_request()
    {
        var path = Path.Combine(_gw.Prefix, "requests.log");
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "file-log", config = new { path } });
        (await _gw.Proxy.GetAsync("/api/one?x=1")).Dispose();
        (await _gw.Proxy.GetAsync("/api/two")).Dispose();
        await Eventually.TrueAsync(() => File.Exists(path) && File.ReadAllLines(path).Length == 2);
        var first = JsonNode.Parse(File.ReadAllLines(path)[0])!;
        Assert.Equal("/api/one?x=1", (string?)first["request"]!["uri"]);
        Assert.Equal(200, (int)first["response"]!["status"]!);
        Assert.Equal("svc-route", (string?)first["route"]!["name"]);
        Assert.Equal("svc", (string?)first["service"]!["name"]);
    }

    [Fact]
    public async Task File_log_response_size_is_the_body_sent_with_the_access_log_off()
    {
        // no access log: the log handler alone must make the body bytes counted
        await using var gw = await PluginGateway.StartAsync(configure: o => o with { ProxyAccessLog = null });
        await gw.ServiceAndRouteAsync("svc", "/api");
        var path = Path.Combine(gw.Prefix, "sizes.log");
        await gw.CreateAsync("/routes/svc-route/plugins", new { name = "file-log", config = new { path } });
        using var response = await gw.Proxy.GetAsync("/api/sized");
        var body = await response.Content.ReadAsByteArrayAsync();
        await Eventually.TrueAsync(() => File.Exists(path) && File.ReadAllLines(path).Length == 1);
        Assert.True(body.Length > 0);
        Assert.Equal(body.Length, (long)JsonNode.Parse(File.ReadAllLines(path)[0])!["response"]!["size"]!);
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
        await Eventually.TrueAsync(() => received.Sum(b => JsonNode.Parse(b)!.AsArray().Count) == 3);
        var uris = received.SelectMany(b => JsonNode.Parse(b)!.AsArray()).Select(e => (string)e!["request"]!["uri"]!).Order().ToArray();
        Assert.Equal(["/api/0", "/api/1", "/api/2"], uris);
        await collector.StopAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task File_log_reopen_decides_where_lines_go_after_a_rename(bool reopen)
    {
        var path = Path.Combine(_gw.Prefix, "rotated.log");
        var rotated = path + ".1";
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "file-log", config = new { path, reopen } });
        (await _gw.Proxy.GetAsync("/api/before")).Dispose();
        await Eventually.TrueAsync(() => File.Exists(path) && File.ReadAllLines(path).Length == 1);
        File.Move(path, rotated); // what logrotate does before signalling

        (await _gw.Proxy.GetAsync("/api/after")).Dispose();
        if (reopen)
        {
            // Kong: reopened on every write, so the line starts a new file at the path.
            await Eventually.TrueAsync(() => File.Exists(path) && File.ReadAllLines(path).Length == 1);
            Assert.Equal("/api/after", (string?)JsonNode.Parse(File.ReadAllLines(path)[0])!["request"]!["uri"]);
            Assert.Single(File.ReadAllLines(rotated));
        }
        else
        {
            // Kong: the descriptor is kept, so the line follows the renamed file and no new file appears.
            await Eventually.TrueAsync(() => File.ReadAllLines(rotated).Length == 2);
            Assert.Equal("/api/after", (string?)JsonNode.Parse(File.ReadAllLines(rotated)[1])!["request"]!["uri"]);
            Assert.False(File.Exists(path));
        }
    }

    [Fact]
    public async Task Http_log_sends_the_configured_content_type_and_logs_an_error_status()
    {
        var logs = new LogCapture();
        await using var gw = await PluginGateway.StartAsync(configure: o => o with { LogLevel = "warn" }, logging: logs.Install);
        await gw.ServiceAndRouteAsync("svc", "/api");
        await gw.CreateAsync("/services/svc/routes", new { name = "plain", paths = new[] { "/plain" } });
        await gw.CreateAsync("/services/svc/routes", new { name = "utf8", paths = new[] { "/utf8" } });
        await gw.CreateAsync("/services/svc/routes", new { name = "failing", paths = new[] { "/failing" } });
        await using var collector = await LogCollector.StartAsync();
        await gw.CreateAsync("/routes/plain/plugins", new { name = "http-log", config = new { http_endpoint = collector.Url + "/plain" } });
        await gw.CreateAsync("/routes/utf8/plugins", new
        {
            name = "http-log", config = new { http_endpoint = collector.Url + "/utf8", content_type = "application/json; charset=utf-8" },
        });
        await gw.CreateAsync("/routes/failing/plugins", new
        {
            // max_retry_time is counted from the first attempt: 1 s leaves room for a retry even when that attempt (a new
            // connection on a loaded machine) takes a good part of it; 0.05 s did not in CI
            name = "http-log", config = new { http_endpoint = collector.Url + "/fail", queue = new { max_retry_time = 1.0, initial_retry_delay = 0.01 } },
        });
        await gw.CreateAsync("/services/svc/routes", new { name = "flaky", paths = new[] { "/flaky" } });
        await gw.CreateAsync("/routes/flaky/plugins", new { name = "http-log", config = new { http_endpoint = collector.Url + "/flaky" } });

        (await gw.Proxy.GetAsync("/plain")).Dispose();
        (await gw.Proxy.GetAsync("/utf8")).Dispose();
        await Eventually.TrueAsync(() => collector.Received.Count == 2);
        Assert.Equal("application/json", collector.Received.Single(r => r.Path == "/plain").ContentType);
        Assert.Equal("application/json; charset=utf-8", collector.Received.Single(r => r.Path == "/utf8").ContentType);

        (await gw.Proxy.GetAsync("/failing")).Dispose();
        // Kong: a log server answering 300 or more fails the batch: each attempt is a warning with the status and the
        // body; the batch is retried until queue.max_retry_time, then dropped with an error.
        await Eventually.TrueAsync(() => logs.Entries.Any(e => e.Level == LogLevel.Error
            && e.Message.Contains("max_retry_time exceeded. 1 queue entries were lost", StringComparison.Ordinal)));
        var attempts = logs.Entries.Count(e => e.Level == LogLevel.Warning && e.Message.Contains("returned status code 500 and body nope", StringComparison.Ordinal));
        Assert.True(attempts >= 2, logs.Dump());
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("\"queue\"", StringComparison.Ordinal)); // names, not configs

        // A batch the log server refuses once is delivered by the retry.
        (await gw.Proxy.GetAsync("/flaky")).Dispose();
        await Eventually.TrueAsync(() => collector.Received.Any(r => r.Path == "/flaky"));
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("returned status code 503", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Http_log_keepalive_is_the_idle_time_of_a_reused_connection()
    {
        await using var collector = await LogCollector.StartAsync();
        await _gw.CreateAsync("/services/svc/routes", new { name = "long", paths = new[] { "/long" } });
        await _gw.CreateAsync("/services/svc/routes", new { name = "short", paths = new[] { "/short" } });
        await _gw.CreateAsync("/routes/long/plugins", new { name = "http-log", config = new { http_endpoint = collector.Url + "/long", keepalive = 60000 } });
        await _gw.CreateAsync("/routes/short/plugins", new { name = "http-log", config = new { http_endpoint = collector.Url + "/short", keepalive = 1 } });

        foreach (var route in new[] { "/long", "/short" })
        {
            for (var i = 1; i <= 2; i++)
            {
                (await _gw.Proxy.GetAsync(route)).Dispose();
                await Eventually.TrueAsync(() => collector.Received.Count(r => r.Path == route) == i);
                // Longer than the short keepalive (1 ms), far shorter than the long one (60 s): the idle time is what differs.
                await Task.Delay(50);
            }
        }
        var longConnections = collector.Received.Where(r => r.Path == "/long").Select(r => r.Connection).Distinct().Count();
        var shortConnections = collector.Received.Where(r => r.Path == "/short").Select(r => r.Connection).Distinct().Count();
        Assert.Equal(1, longConnections);
        Assert.Equal(2, shortConnections);
    }

    /// <summary>A log server: records path, Content-Type and connection of every request it accepts; /fail answers
    /// 500 "nope", /flaky answers 503 the first time.</summary>
    private sealed class LogCollector : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<(string Path, string? ContentType, string Connection)> _received = new();
        private int _flaky;

        private LogCollector(WebApplication app) => _app = app;

        public string Url => _app.Urls.First();
        public IReadOnlyList<(string Path, string? ContentType, string Connection)> Received => [.. _received];

        public static async Task<LogCollector> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var collector = new LogCollector(app);
            app.Run(async ctx =>
            {
                using var reader = new StreamReader(ctx.Request.Body);
                await reader.ReadToEndAsync();
                if (ctx.Request.Path == "/fail" || (ctx.Request.Path == "/flaky" && Interlocked.Increment(ref collector._flaky) == 1))
                {
                    ctx.Response.StatusCode = ctx.Request.Path == "/fail" ? 500 : 503;
                    await ctx.Response.WriteAsync("nope");
                    return;
                }
                collector._received.Enqueue((ctx.Request.Path.Value!, ctx.Request.Headers.ContentType.ToString(), ctx.Connection.Id));
            });
            await app.StartAsync();
            return collector;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
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
        await Eventually.TrueAsync(() =>
        {
            text = client.GetStringAsync(new Uri(_gw.StatusUri, "/metrics")).GetAwaiter().GetResult();
            return text.Contains("kong_http_requests_total{service=\"svc\",route=\"svc-route\",code=\"200\",source=\"service\",workspace=\"default\",consumer=\"\"} 2", StringComparison.Ordinal);
        });
        Assert.DoesNotContain("code=\"404\"", text, StringComparison.Ordinal); // Kong's exporter: nothing without a route
        Assert.Contains("kong_request_latency_ms_count{service=\"svc\",route=\"svc-route\",workspace=\"default\"} 2", text, StringComparison.Ordinal);
        Assert.Contains("kong_bandwidth_bytes{service=\"svc\",route=\"svc-route\",direction=\"egress\",workspace=\"default\",consumer=\"\"}", text, StringComparison.Ordinal);
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
