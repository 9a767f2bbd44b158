using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Store.Postgres;
using Gatehouse.Tests.Wasm;

namespace Gatehouse.Tests.Plugins;

/// <summary>
/// Kong's <c>http_client</c>, <c>dns_query</c> and <c>db_query</c> instrumentations through the real proxy: a real
/// Proxy-Wasm filter (<c>filters/test/phases</c>) dispatching HTTP calls to the real echo upstream or to a closed port,
/// a service host name resolved by the upstream connection (<c>localhost</c>, and a name that does not resolve),
/// rate-limiting's <c>cluster</c> policy reading its counters from the real SQLite (and PostgreSQL) database; spans
/// received by a real OTLP/HTTP collector (<see cref="OtlpReceiver"/>).
/// </summary>
public sealed class OpenTelemetryClientSpansTests : IAsyncLifetime
{
    private OtlpReceiver _collector = null!;
    private readonly string _filters = WasmPaths.CopyFilters(Path.Combine(WasmPaths.Repo, "filters", "test"), "phases");

    public async Task InitializeAsync() => _collector = await OtlpReceiver.StartAsync();

    public async Task DisposeAsync()
    {
        await _collector.DisposeAsync();
        Directory.Delete(_filters, recursive: true);
    }

    private Task<PluginGateway> StartAsync(params string[] instrumentations) => PluginGateway.StartAsync(configure: o => o with
    {
        Wasm = true, WasmFiltersPath = _filters, TracingInstrumentations = instrumentations, TracingSamplingRate = 1,
    });

    private Task TraceAsync(PluginGateway gw) => gw.CreateAsync("/plugins", new
    {
        name = "opentelemetry", config = new { traces_endpoint = _collector.TracesUrl, queue = new { max_coalescing_delay = 0.05 } },
    });

    /// <summary>A route whose <c>phases</c> filter dispatches a call in <c>on_request_headers</c> and answers with it.</summary>
    private static Task DispatchingRouteAsync(PluginGateway gw, string upstream) =>
        gw.CreateAsync("/routes/svc-route/filter-chains", new
        {
            filters = new[]
            {
                new
                {
                    name = "phases",
                    config = JsonNode.Parse($$$"""
                        {"log_phases": false, "request_headers": {"action": "http_call", "upstream": "{{{upstream}}}",
                         "method": "POST", "path": "/called?q=1", "headers": {"user-agent": "phases-test"}, "timeout_ms": 2000,
                         "then": "respond"}}
                        """)!.ToJsonString(),
                },
            },
        });

    private async Task<IReadOnlyList<ReceivedSpan>> TraceOf(string url)
    {
        for (var i = 0; i < 500 && !_collector.Spans.Any(s => s.Name == "kong" && ((string)s.Attributes["http.url"]).EndsWith(url, StringComparison.Ordinal)); i++)
            await Task.Delay(20);
        var root = Assert.Single(_collector.Spans, s => s.Name == "kong" && ((string)s.Attributes["http.url"]).EndsWith(url, StringComparison.Ordinal));
        return [.. _collector.Spans.Where(s => s.TraceId == root.TraceId)];
    }

    [Fact]
    public async Task A_dispatched_call_is_a_client_span_under_the_filter_callback_span_and_carries_no_trace_context()
    {
        await using var gw = await StartAsync("all");
        await gw.ServiceAndRouteAsync("svc", "/api");
        await TraceAsync(gw);
        await DispatchingRouteAsync(gw, $"127.0.0.1:{gw.Upstream.Port}");

        using var response = await gw.Proxy.GetAsync("/api/dispatching");
        Assert.Equal(200, (int)response.StatusCode);
        // the filter answered with the call's response: the echo of the dispatched request, which has no trace
        // context (ngx_wasm_module sends only the filter's headers; Kong's http_client injects nothing)
        var echo = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("/called", (string?)echo["path"]);
        Assert.Null(echo["headers"]?["traceparent"]);

        var spans = await TraceOf("/api/dispatching");
        var call = Assert.Single(spans, s => s.Name == "kong.internal.request");
        Assert.Equal(3, call.Kind); // CLIENT
        Assert.Equal("POST", call.Attributes["http.method"]);
        Assert.Equal($"http://127.0.0.1:{gw.Upstream.Port}/called?q=1", call.Attributes["http.url"]);
        Assert.Equal("1.1", call.Attributes["http.flavor"]);
        Assert.Equal("phases-test", call.Attributes["http.user_agent"]);
        Assert.Equal(200L, call.Attributes["http.status_code"]);
        Assert.NotEqual(2, call.StatusCode);
        var filter = Assert.Single(spans, s => s.Name == "gatehouse.wasm.phases" && (string)s.Attributes["gatehouse.filter.callback"] == "on_request_headers");
        Assert.Equal(filter.SpanId, call.ParentSpanId);
    }

    [Fact]
    public async Task A_failed_dispatch_has_the_error_status_and_http_client_works_alone_under_the_request_span()
    {
        await using var gw = await StartAsync("http_client");
        await gw.ServiceAndRouteAsync("svc", "/api");
        await TraceAsync(gw);
        var closed = EchoUpstream.ClosedPort();
        await DispatchingRouteAsync(gw, $"127.0.0.1:{closed}");

        using var response = await gw.Proxy.GetAsync("/api/refused-call");
        Assert.Equal(502, (int)response.StatusCode); // then: respond, failed call

        var spans = await TraceOf("/api/refused-call");
        var root = Assert.Single(spans, s => s.Name == "kong");
        var call = Assert.Single(spans, s => s.Name == "kong.internal.request");
        Assert.Equal(root.SpanId, call.ParentSpanId);
        Assert.Equal(2, call.StatusCode); // STATUS_CODE_ERROR
        Assert.Equal("broken connection", call.StatusMessage);
        Assert.False(call.Attributes.ContainsKey("http.status_code"));
        Assert.Equal($"http://127.0.0.1:{closed}/called?q=1", call.Attributes["http.url"]);
        Assert.DoesNotContain(spans, s => s.Name.StartsWith("gatehouse.wasm.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_service_host_name_resolved_for_the_request_is_a_kong_dns_span_and_a_pooled_connection_needs_none()
    {
        await using var gw = await StartAsync("dns_query");
        await gw.CreateAsync("/services", new { name = "named", url = $"http://localhost:{gw.Upstream.Port}" });
        await gw.CreateAsync("/services/named/routes", new { name = "named-route", paths = new[] { "/named" } });
        await TraceAsync(gw);

        using (var first = await gw.Proxy.GetAsync("/named/first")) Assert.Equal(200, (int)first.StatusCode);
        var spans = await TraceOf("/named/first");
        var root = Assert.Single(spans, s => s.Name == "kong");
        var dns = Assert.Single(spans, s => s.Name == "kong.dns");
        Assert.Equal(3, dns.Kind); // CLIENT
        Assert.Equal(root.SpanId, dns.ParentSpanId);
        Assert.Equal("localhost", dns.Attributes["dns.record.domain"]);
        Assert.Equal((long)gw.Upstream.Port, dns.Attributes["dns.record.port"]);
        Assert.Equal("127.0.0.1", dns.Attributes["dns.record.ip"]);
        Assert.NotEqual(2, dns.StatusCode);

        // the second request reuses the connection: nothing is resolved (Kong's cache hit)
        using (var second = await gw.Proxy.GetAsync("/named/second")) Assert.Equal(200, (int)second.StatusCode);
        Assert.DoesNotContain(await TraceOf("/named/second"), s => s.Name == "kong.dns");
    }

    [Fact]
    public async Task A_service_host_name_that_does_not_resolve_is_a_kong_dns_span_with_the_error_status()
    {
        await using var gw = await StartAsync("dns_query");
        await gw.CreateAsync("/services", new { name = "nowhere", url = "http://gatehouse-test.invalid:8080", retries = 0, connect_timeout = 2000 });
        await gw.CreateAsync("/services/nowhere/routes", new { name = "nowhere-route", paths = new[] { "/nowhere" } });
        await TraceAsync(gw);

        using (var response = await gw.Proxy.GetAsync("/nowhere/x")) Assert.True((int)response.StatusCode >= 500);
        var dns = Assert.Single(await TraceOf("/nowhere/x"), s => s.Name == "kong.dns");
        Assert.Equal("gatehouse-test.invalid", dns.Attributes["dns.record.domain"]);
        Assert.Equal(8080L, dns.Attributes["dns.record.port"]);
        Assert.False(dns.Attributes.ContainsKey("dns.record.ip"));
        Assert.Equal(2, dns.StatusCode);
        Assert.NotEqual("", dns.StatusMessage);
    }

    [Fact]
    public async Task A_cluster_rate_limited_request_has_a_database_query_span_under_the_plugin_span_on_sqlite()
    {
        await using var gw = await StartAsync("db_query", "plugin_access");
        await gw.ServiceAndRouteAsync("svc", "/api");
        await TraceAsync(gw);
        await gw.CreateAsync("/routes/svc-route/plugins", new { name = "rate-limiting", config = new { minute = 100, policy = "cluster" } });

        using (var response = await gw.Proxy.GetAsync("/api/limited")) Assert.Equal(200, (int)response.StatusCode);
        var spans = await TraceOf("/api/limited");
        var query = Assert.Single(spans, s => s.Name == "kong.database.query");
        Assert.Equal("sqlite", query.Attributes["db.system"]);
        Assert.Contains("FROM ratelimiting_metrics", (string)query.Attributes["db.statement"]);
        Assert.Equal(Assert.Single(spans, s => s.Name == "kong.access.plugin.rate-limiting").SpanId, query.ParentSpanId);
        Assert.NotEqual(2, query.StatusCode);
    }

    [Fact]
    public async Task A_cluster_rate_limited_request_has_a_database_query_span_on_postgres_with_the_error_status_when_it_fails()
    {
        await using var server = await PostgresServer.StartAsync();
        var database = await server.CreateDatabaseAsync();
        await using var gw = await PluginGateway.StartAsync(configure: o => o with
        {
            Database = DatabaseKind.Postgres, Postgres = database, SqlitePath = null, TracingInstrumentations = ["db_query"], TracingSamplingRate = 1,
        });
        await gw.ServiceAndRouteAsync("svc", "/api");
        await TraceAsync(gw);
        await gw.CreateAsync("/routes/svc-route/plugins", new { name = "rate-limiting", config = new { minute = 100, policy = "cluster" } });

        using (var response = await gw.Proxy.GetAsync("/api/limited-pg")) Assert.Equal(200, (int)response.StatusCode);
        var spans = await TraceOf("/api/limited-pg");
        var query = Assert.Single(spans, s => s.Name == "kong.database.query");
        Assert.Equal("postgres", query.Attributes["db.system"]);
        Assert.Contains("ratelimiting_metrics", (string)query.Attributes["db.statement"]);
        Assert.Equal(Assert.Single(spans, s => s.Name == "kong").SpanId, query.ParentSpanId); // plugin spans off
        Assert.NotEqual(2, query.StatusCode);

        // the database is down: the read fails (fault_tolerant proxies the request), its span says so
        await server.StopAsync();
        using (var response = await gw.Proxy.GetAsync("/api/limited-pg-down")) Assert.Equal(200, (int)response.StatusCode);
        var failed = Assert.Single(await TraceOf("/api/limited-pg-down"), s => s.Name == "kong.database.query");
        Assert.Equal(2, failed.StatusCode);
        Assert.NotEqual("", failed.StatusMessage);
    }

    [Fact]
    public async Task Without_the_three_instrumentations_no_such_span_appears()
    {
        await using var gw = await StartAsync("request", "router", "balancer", "plugin_rewrite", "plugin_access", "plugin_header_filter", "wasm_filters");
        await gw.CreateAsync("/services", new { name = "svc", url = $"http://localhost:{gw.Upstream.Port}" });
        await gw.CreateAsync("/services/svc/routes", new { name = "svc-route", paths = new[] { "/api" } });
        await TraceAsync(gw);
        await gw.CreateAsync("/routes/svc-route/plugins", new { name = "rate-limiting", config = new { minute = 100, policy = "cluster" } });
        await gw.CreateAsync("/routes/svc-route/filter-chains", new
        {
            filters = new[]
            {
                new
                {
                    name = "phases",
                    config = JsonNode.Parse($$$"""
                        {"log_phases": false, "request_headers": {"action": "http_call", "upstream": "127.0.0.1:{{{gw.Upstream.Port}}}",
                         "path": "/called", "timeout_ms": 2000, "then": "continue"}}
                        """)!.ToJsonString(),
                },
            },
        });

        using (var response = await gw.Proxy.GetAsync("/api/untraced-steps"))
        {
            Assert.Equal(200, (int)response.StatusCode);
            Assert.Equal("200", response.Headers.GetValues("x-http-call-status").Single()); // the call was made
        }
        var spans = await TraceOf("/api/untraced-steps");
        Assert.Contains(spans, s => s.Name == "kong.access.plugin.rate-limiting");
        Assert.Contains(spans, s => s.Name == "gatehouse.wasm.phases");
        Assert.DoesNotContain(spans, s => s.Name is "kong.internal.request" or "kong.dns" or "kong.database.query");
    }
}
