using System.Text.Json.Nodes;
using Gatehouse.Plugins.Bundled.OpenTelemetry;
using Gatehouse.Plugins.Bundled.Prometheus;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Wasm;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Plugins;

/// <summary>
/// The opentelemetry plugin through the real proxy, with real Proxy-Wasm filters, exporting with the SDK's OTLP/HTTP
/// exporter to a real collector (<see cref="OtlpReceiver"/>): the span tree and Kong's attribute names, w3c and b3
/// propagation both ways, sampling, a collector that is down, and the refusals of what is not implemented.
/// </summary>
public sealed class OpenTelemetryPluginTests : IAsyncLifetime
{
    private PluginGateway _gw = null!;
    private OtlpReceiver _collector = null!;
    private string _filters = null!;

    public async Task InitializeAsync()
    {
        _filters = WasmPaths.CopyFilters(WasmPaths.Examples, "add-headers", "require-header");
        File.Copy(Path.Combine(WasmPaths.Repo, "filters", "test", "chaos.wasm"), Path.Combine(_filters, "chaos.wasm"));
        // every span, and a global rate of 0 (each instance here sets its sampling_rate unless a test says otherwise)
        _gw = await PluginGateway.StartAsync(configure: o => o with
        {
            Wasm = true, WasmFiltersPath = _filters, TracingInstrumentations = ["all"], TracingSamplingRate = 0,
        });
        _collector = await OtlpReceiver.StartAsync();
        await _gw.ServiceAndRouteAsync("svc", "/api");
    }

    public async Task DisposeAsync()
    {
        await _gw.DisposeAsync();
        await _collector.DisposeAsync();
        Directory.Delete(_filters, recursive: true);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++) await Task.Delay(20);
        Assert.True(condition(), "condition not reached within 10 s");
    }

    private Task AddPlugin(object config) => _gw.CreateAsync("/plugins", new { name = "opentelemetry", config });

    private object Config(double sampling = 1, object? propagation = null) => propagation is null
        ? new { traces_endpoint = _collector.TracesUrl, sampling_rate = sampling, queue = new { max_coalescing_delay = 0.05 } }
        : new { traces_endpoint = _collector.TracesUrl, sampling_rate = sampling, queue = new { max_coalescing_delay = 0.05 }, propagation };

    private static string EchoedHeader(JsonNode echo, string name) => echo["headers"]?[name]?.ToString() ?? "";

    private async Task<(int Status, JsonNode? Echo)> Get(string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        using var response = await _gw.Proxy.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType == "application/json" ? JsonNode.Parse(text) : null);
    }

    /// <summary>A request debugged (X-Kong-Request-Debug from loopback) on a traced route gets both: the debug output
    /// with its plugin and filter timings, and the plugin and filter spans (one instrumented loop serves both).</summary>
    [Fact]
    public async Task A_debugged_request_is_traced_too()
    {
        await AddPlugin(Config());
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "correlation-id", config = new { } });
        await _gw.CreateAsync("/routes/svc-route/filter-chains", JsonNode.Parse("""
            {"filters":[{"name":"add-headers","config":{"request":{"add":{"x-filter":"1"}}}}]}
            """)!.ToJsonString());

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/debugged");
        request.Headers.TryAddWithoutValidation("X-Kong-Request-Debug", "*");
        using var response = await _gw.Proxy.SendAsync(request);
        Assert.Equal(200, (int)response.StatusCode);
        var output = JsonNode.Parse(response.Headers.GetValues("X-Kong-Request-Debug-Output").Single())!.ToJsonString();
        Assert.Contains("correlation-id", output);
        Assert.Contains("add-headers", output);

        await WaitUntil(() => _collector.Spans.Any(s => s.Name == "kong"));
        string[] names = [.. _collector.Spans.Select(s => s.Name)];
        Assert.Contains("kong.access.plugin.correlation-id", names);
        Assert.Contains("gatehouse.wasm.add-headers", names);
    }

    [Fact]
    public async Task A_request_through_two_plugins_and_two_filters_exports_Kongs_span_tree()
    {
        await AddPlugin(Config());
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "request-transformer", config = new { add = new { headers = new[] { "x-rt:1" } } } });
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "correlation-id", config = new { } });
        await _gw.CreateAsync("/routes/svc-route/filter-chains", JsonNode.Parse("""
            {"filters":[
              {"name":"add-headers","config":{"request":{"add":{"x-filter":"1"}}}},
              {"name":"require-header","config":{"header":"x-api-key","status":401,"body":"no key\n"}}
            ]}
            """)!.ToJsonString());

        var (status, echo) = await Get("/api/one?x=1", ("x-api-key", "k"));
        Assert.Equal(200, status);
        await WaitUntil(() => _collector.Spans.Any(s => s.Name == "kong"));
        var spans = _collector.Spans;
        var root = Assert.Single(spans, s => s.Name == "kong");
        Assert.Equal("", root.ParentSpanId);
        Assert.Equal(2, root.Kind); // SERVER
        Assert.Equal("GET", root.Attributes["http.method"]);
        Assert.Equal("http", root.Attributes["http.scheme"]);
        Assert.Equal("1.1", root.Attributes["http.flavor"]);
        Assert.Equal("127.0.0.1", root.Attributes["net.peer.ip"]);
        Assert.Equal(200L, root.Attributes["http.status_code"]);
        Assert.EndsWith("/api/one?x=1", (string)root.Attributes["http.url"]);
        Assert.True(root.Attributes.ContainsKey("kong.request.id"));
        Assert.All(spans, s => Assert.Equal(root.TraceId, s.TraceId));
        Assert.All(spans.Where(s => s != root), s => Assert.Equal(root.SpanId, s.ParentSpanId));

        string[] names = [.. spans.Select(s => s.Name)];
        Assert.Contains("kong.router", names);
        Assert.Contains("kong.access.plugin.request-transformer", names);
        Assert.Contains("kong.access.plugin.correlation-id", names);
        Assert.Contains("kong.header_filter.plugin.correlation-id", names);
        Assert.Contains("kong.access.plugin.opentelemetry", names);
        var filters = spans.Where(s => s.Name.StartsWith("gatehouse.wasm.", StringComparison.Ordinal)).ToList();
        Assert.Contains(filters, s => s.Name == "gatehouse.wasm.add-headers" && (string)s.Attributes["gatehouse.filter.callback"] == "on_request_headers");
        Assert.Contains(filters, s => s.Name == "gatehouse.wasm.require-header" && (string)s.Attributes["gatehouse.filter.callback"] == "on_request_headers");
        Assert.Contains(filters, s => s.Name == "gatehouse.wasm.add-headers" && (string)s.Attributes["gatehouse.filter.callback"] == "on_response_headers");
        Assert.All(filters, s => Assert.Equal("continue", s.Attributes["gatehouse.filter.outcome"]));
        var balancer = Assert.Single(spans, s => s.Name == "kong.balancer");
        Assert.Equal(3, balancer.Kind); // CLIENT
        Assert.Equal("127.0.0.1", balancer.Attributes["net.peer.ip"]);
        Assert.Equal((long)_gw.Upstream.Port, balancer.Attributes["net.peer.port"]);
        Assert.Equal(1L, balancer.Attributes["try_count"]);
        // the upstream's parent is the balancer span, in the default format (w3c)
        Assert.Equal($"00-{root.TraceId}-{balancer.SpanId}-01", EchoedHeader(echo!, "traceparent"));
        Assert.Equal("kong", Assert.Single(_collector.Resources.Take(1))["service.name"]);
        Assert.Equal("application/x-protobuf", _collector.ContentTypes.First());
    }

    [Fact]
    public async Task A_filter_that_answers_locally_has_the_local_response_outcome()
    {
        await AddPlugin(Config());
        await _gw.CreateAsync("/routes/svc-route/filter-chains", JsonNode.Parse("""
            {"filters":[{"name":"require-header","config":{"header":"x-api-key","status":401,"body":"no key\n"}}]}
            """)!.ToJsonString());
        var (status, _) = await Get("/api/refused");
        Assert.Equal(401, status);
        await WaitUntil(() => _collector.Spans.Any(s => s.Name == "kong"));
        var filter = Assert.Single(_collector.Spans, s => s.Name == "gatehouse.wasm.require-header"
            && (string)s.Attributes["gatehouse.filter.callback"] == "on_request_headers");
        Assert.Equal("local_response", filter.Attributes["gatehouse.filter.outcome"]);
        Assert.Equal(401L, Assert.Single(_collector.Spans, s => s.Name == "kong").Attributes["http.status_code"]);
        Assert.DoesNotContain(_collector.Spans, s => s.Name == "kong.balancer");
    }

    [Fact]
    public async Task A_filter_that_traps_has_the_trap_outcome_and_an_error_status()
    {
        await AddPlugin(Config());
        await _gw.CreateAsync("/routes/svc-route/filter-chains", new { filters = new[] { new { name = "chaos" } } });
        var (status, _) = await Get("/api/trap", ("x-chaos", "trap"));
        Assert.Equal(500, status);
        await WaitUntil(() => _collector.Spans.Any(s => s.Name == "kong"));
        var filter = Assert.Single(_collector.Spans, s => s.Name == "gatehouse.wasm.chaos"
            && (string)s.Attributes["gatehouse.filter.callback"] == "on_request_headers");
        Assert.Equal("trap", filter.Attributes["gatehouse.filter.outcome"]);
        Assert.Equal(2, filter.StatusCode); // STATUS_CODE_ERROR
        var root = Assert.Single(_collector.Spans, s => s.Name == "kong");
        Assert.Equal(500L, root.Attributes["http.status_code"]);
        Assert.Equal(2, root.StatusCode);
    }

    [Fact]
    public async Task An_exporter_unused_for_the_retire_time_is_closed_and_the_one_in_use_stays()
    {
        var time = new ManualTime(DateTimeOffset.UnixEpoch.AddYears(56));
        await using var gw = await PluginGateway.StartAsync(s => s.AddSingleton<TimeProvider>(time),
            o => o with { TracingInstrumentations = ["all"], TracingSamplingRate = 1 });
        await gw.ServiceAndRouteAsync("svc", "/api");
        var exporters = gw.Host.Services.GetRequiredService<SpanExporters>();
        var plugin = await gw.CreateAsync("/plugins", new { name = "opentelemetry", config = new { traces_endpoint = _collector.TracesUrl } });
        Assert.Equal(1, exporters.Count);
        var changed = new { config = new { traces_endpoint = _collector.TracesUrl, headers = new Dictionary<string, string> { ["authorization"] = "Bearer second" } } };
        Assert.Equal(200, (await gw.SendAsync(HttpMethod.Patch, $"/plugins/{plugin["id"]}", changed)).Status);
        Assert.Equal(2, exporters.Count); // requests on the older snapshot may still use the first

        time.Advance(SpanExporters.RetireAfter + TimeSpan.FromSeconds(1));
        Assert.Equal(200, (await gw.SendAsync(HttpMethod.Patch, $"/plugins/{plugin["id"]}", new { tags = new[] { "b" } })).Status);
        Assert.Equal(1, exporters.Count);
        Assert.Equal(200, (int)(await gw.Proxy.GetAsync("/api/after")).StatusCode);
        await WaitUntil(() => _collector.Authorization.Contains("Bearer second")); // the exporter in use still sends
        // what the queue holds when the gateway stops is still sent (the exporter is warm: the 5 s drain is ample)
        Assert.Equal(200, (int)(await gw.Proxy.GetAsync("/api/last")).StatusCode);
        await gw.DisposeAsync();
        Assert.Contains(_collector.Spans, s => s.Name == "kong" && ((string)s.Attributes["http.url"]).EndsWith("/api/last", StringComparison.Ordinal));
    }

    [Fact]
    public async Task W3c_context_from_the_client_is_the_parent_and_reaches_the_upstream()
    {
        await AddPlugin(Config());
        const string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        const string parent = "00f067aa0ba902b7";
        var (_, echo) = await Get("/api/w3c", ("traceparent", $"00-{trace}-{parent}-01"), ("tracestate", "vendor=1"));
        await WaitUntil(() => _collector.Spans.Any(s => s.Name == "kong")); // the request span is sent last
        var root = Assert.Single(_collector.Spans, s => s.Name == "kong");
        Assert.Equal(trace, root.TraceId);
        Assert.Equal(parent, root.ParentSpanId);
        var balancer = Assert.Single(_collector.Spans, s => s.Name == "kong.balancer");
        Assert.Equal($"00-{trace}-{balancer.SpanId}-01", EchoedHeader(echo!, "traceparent"));
        Assert.Equal("vendor=1", EchoedHeader(echo!, "tracestate"));
    }

    [Theory]
    [InlineData("b3")]
    [InlineData("b3-single")]
    public async Task B3_context_from_the_client_is_the_parent_and_is_injected_as_configured(string inject)
    {
        await AddPlugin(Config(propagation: new { extract = new[] { "b3" }, inject = new[] { inject }, default_format = "w3c" }));
        const string trace = "80f198ee56343ba864fe8b2a57d3eff7";
        const string parent = "e457b5a2e4d86bd1";
        var (_, echo) = await Get("/api/b3", ("x-b3-traceid", trace), ("x-b3-spanid", parent), ("x-b3-sampled", "1"));
        await WaitUntil(() => _collector.Spans.Any(s => s.Name == "kong")); // the request span is sent last
        var root = Assert.Single(_collector.Spans, s => s.Name == "kong");
        Assert.Equal(trace, root.TraceId);
        Assert.Equal(parent, root.ParentSpanId);
        var balancer = Assert.Single(_collector.Spans, s => s.Name == "kong.balancer");
        // b3 shares the client-side span: the upstream's span is the balancer try, its parent the request span
        if (inject == "b3")
        {
            Assert.Equal(trace, EchoedHeader(echo!, "x-b3-traceid"));
            Assert.Equal(balancer.SpanId, EchoedHeader(echo!, "x-b3-spanid"));
            Assert.Equal(root.SpanId, EchoedHeader(echo!, "x-b3-parentspanid"));
            Assert.Equal("1", EchoedHeader(echo!, "x-b3-sampled"));
        }
        else Assert.Equal($"{trace}-{balancer.SpanId}-1-{root.SpanId}", EchoedHeader(echo!, "b3"));
        Assert.Equal("", EchoedHeader(echo!, "traceparent"));
    }

    [Fact]
    public async Task Sampling_rate_0_exports_nothing_but_still_propagates_an_unsampled_context()
    {
        await AddPlugin(Config(sampling: 0));
        await _gw.ServiceAndRouteAsync("svc2", "/sampled");
        for (var i = 0; i < 5; i++)
        {
            var (_, echo) = await Get("/api/none");
            Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-00$", EchoedHeader(echo!, "traceparent"));
        }
        // a marker through an instance with rate 1 and the same export settings (so the same queue, in order): had
        // the unsampled requests been exported, their spans would be received before the marker's
        await _gw.CreateAsync("/routes/svc2-route/plugins", new { name = "opentelemetry", config = Config(sampling: 1) });
        var (_, marked) = await Get("/sampled/marker");
        Assert.EndsWith("-01", EchoedHeader(marked!, "traceparent"));
        await WaitUntil(() => _collector.Spans.Any(s => s.Name == "kong"));
        var root = Assert.Single(_collector.Spans, s => s.Name == "kong");
        Assert.EndsWith("/sampled/marker", (string)root.Attributes["http.url"]);
    }

    [Fact]
    public async Task A_collector_that_is_down_leaves_requests_unaffected_and_counts_the_dropped_spans()
    {
        await AddPlugin(new { traces_endpoint = $"http://127.0.0.1:{EchoUpstream.ClosedPort()}/v1/traces", sampling_rate = 1.0,
            queue = new { max_coalescing_delay = 0.05 } });
        var metrics = _gw.Host.Services.GetRequiredService<PrometheusMetrics>();
        var before = metrics.OpenTelemetrySpansDropped.WithLabels("export_failed").Value;
        for (var i = 0; i < 5; i++)
        {
            var (status, _) = await Get($"/api/{i}");
            Assert.Equal(200, status);
        }
        await WaitUntil(() => metrics.OpenTelemetrySpansDropped.WithLabels("export_failed").Value - before >= 5 * 4);
        // the family is on /metrics
        using var scrape = await _gw.Admin.GetAsync("/metrics");
        Assert.Contains("gatehouse_opentelemetry_spans_dropped_total{reason=\"export_failed\"}", await scrape.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Tracing_sampling_rate_is_the_rate_of_an_instance_without_sampling_rate()
    {
        // the fixture's tracing_sampling_rate is 0
        await AddPlugin(new { traces_endpoint = _collector.TracesUrl });
        for (var i = 0; i < 5; i++) Assert.EndsWith("-00", EchoedHeader((await Get("/api/zero")).Echo!, "traceparent"));
        await using var gw = await PluginGateway.StartAsync(configure: o => o with { TracingInstrumentations = ["all"], TracingSamplingRate = 1 });
        await gw.ServiceAndRouteAsync("svc", "/api");
        await gw.CreateAsync("/plugins", new { name = "opentelemetry", config = new { traces_endpoint = _collector.TracesUrl, queue = new { max_coalescing_delay = 0.05 } } });
        using var response = await gw.Proxy.GetAsync("/api/one");
        Assert.EndsWith("-01", EchoedHeader(JsonNode.Parse(await response.Content.ReadAsStringAsync())!, "traceparent"));
        await WaitUntil(() => _collector.Spans.Any(s => s.Name == "kong"));
        Assert.EndsWith("/api/one", (string)Assert.Single(_collector.Spans, s => s.Name == "kong").Attributes["http.url"]);
    }

    [Fact]
    public async Task Tracing_instrumentations_off_only_propagates_and_exports_nothing()
    {
        await using (var gw = await PluginGateway.StartAsync(configure: o => o with { TracingSamplingRate = 1 }))
        {
            await gw.ServiceAndRouteAsync("svc", "/api");
            await gw.CreateAsync("/plugins", new { name = "opentelemetry", config = new
            {
                traces_endpoint = _collector.TracesUrl, http_response_header_for_traceid = "x-trace-id",
                propagation = new { extract = new[] { "w3c" }, inject = new[] { "w3c" }, default_format = "w3c" },
            } });
            using var response = await gw.Proxy.GetAsync("/api/off");
            var traceparent = EchoedHeader(JsonNode.Parse(await response.Content.ReadAsStringAsync())!, "traceparent");
            Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-00$", traceparent); // Kong: propagation only is never sampled
            Assert.Equal(traceparent.Split('-')[1], response.Headers.GetValues("x-trace-id").Single());
        } // stopping the gateway sends whatever its queues hold
        Assert.Empty(_collector.Spans);
    }

    [Fact]
    public async Task Tracing_instrumentations_lists_the_steps_that_get_spans()
    {
        await using (var gw = await PluginGateway.StartAsync(configure: o => o with { TracingSamplingRate = 1, TracingInstrumentations = ["router", "balancer"] }))
        {
            await gw.ServiceAndRouteAsync("svc", "/api");
            await gw.CreateAsync("/plugins", new { name = "opentelemetry", config = new { traces_endpoint = _collector.TracesUrl } });
            (await gw.Proxy.GetAsync("/api/some")).Dispose();
        } // stopping the gateway sends whatever its queues hold
        Assert.Equal(["kong", "kong.balancer", "kong.router"], _collector.Spans.Select(s => s.Name).Order().ToArray());
    }

    [Fact]
    public async Task A_collector_that_never_answers_fills_the_queue_and_further_spans_are_dropped_without_waiting()
    {
        // accepts connections and never answers: the exporter's one batch waits while the queue (1 span) fills
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var held = new List<System.Net.Sockets.TcpClient>();
        _ = Task.Run(async () => { while (true) held.Add(await silent.AcceptTcpClientAsync()); });
        var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        await AddPlugin(new { traces_endpoint = $"http://127.0.0.1:{port}/v1/traces", sampling_rate = 1.0,
            queue = new { max_batch_size = 1, max_entries = 1 } });
        var metrics = _gw.Host.Services.GetRequiredService<PrometheusMetrics>();
        var before = metrics.OpenTelemetrySpansDropped.WithLabels("queue_full").Value;
        // one request has at least 4 spans (kong, router, the plugin's access, balancer): one in the exporter, one queued
        var (status, _) = await Get("/api/slow-collector");
        Assert.Equal(200, status);
        // the log phase may end just after the client has its answer
        await WaitUntil(() => metrics.OpenTelemetrySpansDropped.WithLabels("queue_full").Value - before >= 2);
        foreach (var client in held.ToArray()) client.Dispose();
    }

    [Theory]
    [InlineData("""{"traces_endpoint":"http://c/v1/traces","logs_endpoint":"http://c/v1/logs"}""", "logs_endpoint", "logs export is not implemented")]
    [InlineData("""{"traces_endpoint":"http://c/v1/traces","queue":{"max_retry_time":5}}""", "queue", "queue retries are not implemented")]
    [InlineData("""{"headers":{"a":"b"}}""", null, "at least one of these fields must be non-empty")]
    public async Task What_is_not_implemented_is_refused_naming_the_field(string config, string? field, string message)
    {
        var (status, body) = await _gw.PostAsync("/plugins", JsonNode.Parse($$"""{"name":"opentelemetry","config":{{config}}}""")!);
        Assert.Equal(400, status);
        var text = (string)body!["message"]!;
        Assert.True(text.Contains(message, StringComparison.Ordinal), text);
        if (field is not null) Assert.NotNull(body["fields"]?["config"]?[field]);
    }
}
