using System.Text.Json.Nodes;
using Gatehouse.Plugins.Bundled.OpenTelemetry;
using Gatehouse.Plugins.Bundled.Prometheus;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Wasm;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Plugins;

/// <summary>
/// The opentelemetry plugin through the real proxy, with real Proxy-Wasm filters, exporting with the SDK's OTLP/HTTP
/// exporter to a real collector (<see cref="OtlpReceiver"/>) and a real upstream (<see cref="EchoUpstream"/>): the span
/// tree and Kong's attribute names, propagation both ways in each of Kong's formats, Kong's trace-id sampling, a
/// collector that is down, and the refusals of what is not implemented.
/// </summary>
public sealed class OpenTelemetryPluginTests : IAsyncLifetime
{
    private PluginGateway _gw = null!;
    private OtlpReceiver _collector = null!;
    private string _filters = null!;
    private readonly LogCapture _log = new();

    public async Task InitializeAsync()
    {
        _filters = WasmPaths.CopyFilters(WasmPaths.Examples, "add-headers", "require-header");
        File.Copy(Path.Combine(WasmPaths.Repo, "filters", "test", "chaos.wasm"), Path.Combine(_filters, "chaos.wasm"));
        // every span, and a global rate of 0 (each instance here sets its sampling_rate unless a test says otherwise)
        _gw = await PluginGateway.StartAsync(configure: o => o with
        {
            Wasm = true, WasmFiltersPath = _filters, TracingInstrumentations = ["all"], TracingSamplingRate = 0, LogLevel = "warn",
        }, logging: _log.Install);
        _collector = await OtlpReceiver.StartAsync();
        await _gw.ServiceAndRouteAsync("svc", "/api");
    }

    public async Task DisposeAsync()
    {
        await _gw.DisposeAsync();
        await _collector.DisposeAsync();
        Directory.Delete(_filters, recursive: true);
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

        await Eventually.TrueAsync(() => _collector.Spans.Any(s => s.Name == "kong"));
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
        await Eventually.TrueAsync(() => _collector.Spans.Any(s => s.Name == "kong"));
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
        await Eventually.TrueAsync(() => _collector.Spans.Any(s => s.Name == "kong"));
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
        await Eventually.TrueAsync(() => _collector.Spans.Any(s => s.Name == "kong"));
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
        await Eventually.TrueAsync(() => _collector.Authorization.Contains("Bearer second")); // the exporter in use still sends
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
        await Eventually.TrueAsync(() => _collector.Spans.Any(s => s.Name == "kong")); // the request span is sent last
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
        await Eventually.TrueAsync(() => _collector.Spans.Any(s => s.Name == "kong")); // the request span is sent last
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

    /// <summary>A request the sampler leaves out records nothing: no span of it gets an identity (an Activity of the
    /// plugin's source), none is exported, and the upstream still gets the trace with "not sampled" and a span of its
    /// own; the same trace sampled (the control) does make them.</summary>
    [Fact]
    public async Task An_unsampled_request_makes_no_span_and_still_propagates()
    {
        await AddPlugin(Config(sampling: 1));
        var unsampled = System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString();
        var sampled = System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString();
        var made = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = s => s.Name == SpanExporters.SourceName,
            Sample = static (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) =>
                System.Diagnostics.ActivitySamplingResult.PropagationData,
            ActivityStarted = a => made.AddOrUpdate(a.TraceId.ToHexString(), 1, (_, n) => n + 1),
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);

        for (var i = 0; i < 3; i++)
        {
            var (status, echo) = await Get("/api/unsampled", ("traceparent", $"00-{unsampled}-{Parent}-00"));
            Assert.Equal(200, status);
            Assert.Matches($"^00-{unsampled}-[0-9a-f]{{16}}-00$", EchoedHeader(echo!, "traceparent"));
            Assert.DoesNotContain(Parent, EchoedHeader(echo!, "traceparent"));
        }
        var (_, control) = await Get("/api/sampled", ("traceparent", $"00-{sampled}-{Parent}-01"));
        Assert.Matches($"^00-{sampled}-[0-9a-f]{{16}}-01$", EchoedHeader(control!, "traceparent"));
        await Eventually.TrueAsync(() => _collector.Spans.Any(s => s.Name == "kong" && s.TraceId == sampled));

        Assert.True(made.GetValueOrDefault(sampled) > 0, "the control request made no span: the listener sees nothing");
        Assert.Equal(0, made.GetValueOrDefault(unsampled));
        Assert.DoesNotContain(_collector.Spans, s => s.TraceId == unsampled);
    }

    private const string Trace = "4e2d8c1f0a9b7e6d5c4b3a2918070605";
    private const string Trace8 = "5c4b3a2918070605"; // its last 8 bytes, Kong's 64-bit form
    private const string Parent = "a1b2c3d4e5f60718";

    private static string Dec(string hex) => ulong.Parse(hex, System.Globalization.NumberStyles.AllowHexSpecifier).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>What a client sends in each format (the trace, its span <see cref="Parent"/>, sampled), and the trace id
    /// Kong makes of it (a 64-bit id is padded).</summary>
    private static ((string, string)[] Headers, string TraceId) ClientContext(string format) => format switch
    {
        "w3c" => ([("traceparent", $"00-{Trace}-{Parent}-01")], Trace),
        "b3" => ([("X-B3-TraceId", Trace8), ("X-B3-SpanId", Parent), ("X-B3-Sampled", "1")], "0000000000000000" + Trace8),
        "b3-single" => ([("b3", $"{Trace}-{Parent}-1")], Trace),
        "jaeger" => ([("uber-trace-id", $"{Trace}:{Parent}:0:1"), ("uberctx-user", "ann%20b")], Trace),
        "ot" => ([("ot-tracer-traceid", Trace), ("ot-tracer-spanid", Parent), ("ot-tracer-sampled", "1"), ("ot-baggage-k", "v")], Trace),
        "aws" => ([("X-Amzn-Trace-Id", $"Root=1-{Trace[..8]}-{Trace[8..]};Parent={Parent};Sampled=1")], Trace),
        "gcp" => ([("X-Cloud-Trace-Context", $"{Trace}/{Dec(Parent)};o=1")], Trace),
        "datadog" => ([("x-datadog-trace-id", Dec(Trace8)), ("x-datadog-parent-id", Dec(Parent)), ("x-datadog-sampling-priority", "1")], "0000000000000000" + Trace8),
        "instana" => ([("x-instana-t", Trace), ("x-instana-s", Parent), ("x-instana-l", "1")], Trace),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    /// <summary>What the upstream must receive in each format: the trace at the client's size, the balancer try as the
    /// span, the request span as its parent where the format has one, sampled, the baggage passed on.</summary>
    private static Dictionary<string, string> Injected(string format, string trace, string balancer, string root) => format switch
    {
        "w3c" => new() { ["traceparent"] = $"00-{trace}-{balancer}-01" },
        "b3" => new() { ["x-b3-traceid"] = trace[16..], ["x-b3-spanid"] = balancer, ["x-b3-parentspanid"] = root, ["x-b3-sampled"] = "1" },
        "b3-single" => new() { ["b3"] = $"{trace}-{balancer}-1-{root}" },
        "jaeger" => new() { ["uber-trace-id"] = $"{trace}:{balancer}:{root}:01", ["uberctx-user"] = "ann%20b" },
        "ot" => new() { ["ot-tracer-traceid"] = trace, ["ot-tracer-spanid"] = balancer, ["ot-tracer-sampled"] = "1", ["ot-baggage-k"] = "v" },
        "aws" => new() { ["x-amzn-trace-id"] = $"Root=1-{trace[..8]}-{trace[8..]};Parent={balancer};Sampled=1" },
        "gcp" => new() { ["x-cloud-trace-context"] = $"{trace}/{Dec(balancer)};o=1" },
        "datadog" => new() { ["x-datadog-trace-id"] = Dec(trace[16..]), ["x-datadog-parent-id"] = Dec(balancer), ["x-datadog-sampling-priority"] = "1" },
        "instana" => new() { ["x-instana-t"] = trace, ["x-instana-s"] = balancer, ["x-instana-l"] = "1" },
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    private static readonly string[] FormatNames = ["w3c", "b3", "b3-single", "jaeger", "ot", "aws", "gcp", "datadog", "instana"];
    public static TheoryData<string> KongFormats => [.. FormatNames];

    [Theory]
    [MemberData(nameof(KongFormats))]
    public async Task Each_format_from_the_client_is_the_parent_and_is_injected_back_to_the_upstream(string format)
    {
        // preserve: the upstream gets the client's format (b3 read from its single header: b3-single)
        await AddPlugin(Config(propagation: new { extract = new[] { format == "b3-single" ? "b3" : format }, inject = new[] { "preserve" }, default_format = "w3c" }));
        var (headers, traceId) = ClientContext(format);
        var (status, echo) = await Get($"/api/{format}", headers);
        Assert.Equal(200, status);
        await Eventually.TrueAsync(() => _collector.Spans.Any(s => s.Name == "kong"));
        var root = Assert.Single(_collector.Spans, s => s.Name == "kong");
        Assert.Equal(traceId, root.TraceId);
        Assert.Equal(Parent, root.ParentSpanId);
        var balancer = Assert.Single(_collector.Spans, s => s.Name == "kong.balancer");
        foreach (var (name, value) in Injected(format, traceId, balancer.SpanId, root.SpanId))
            Assert.True(value == EchoedHeader(echo!, name), $"{name}: expected {value}, got {EchoedHeader(echo!, name)}");
        if (format != "w3c") Assert.Equal("", EchoedHeader(echo!, "traceparent"));
    }

    [Fact]
    public async Task A_new_trace_is_injected_in_every_format_at_each_formats_default_size()
    {
        await AddPlugin(Config(propagation: new { inject = FormatNames, default_format = "w3c" }));
        var (_, echo) = await Get("/api/all-formats");
        await Eventually.TrueAsync(() => _collector.Spans.Any(s => s.Name == "kong"));
        var root = Assert.Single(_collector.Spans, s => s.Name == "kong");
        Assert.Equal("", root.ParentSpanId);
        var balancer = Assert.Single(_collector.Spans, s => s.Name == "kong.balancer");
        var expected = new Dictionary<string, string>
        {
            ["traceparent"] = $"00-{root.TraceId}-{balancer.SpanId}-01",
            ["x-b3-traceid"] = root.TraceId, ["x-b3-spanid"] = balancer.SpanId, ["x-b3-parentspanid"] = root.SpanId, ["x-b3-sampled"] = "1",
            ["b3"] = $"{root.TraceId}-{balancer.SpanId}-1-{root.SpanId}",
            ["uber-trace-id"] = $"{root.TraceId}:{balancer.SpanId}:{root.SpanId}:01",
            ["ot-tracer-traceid"] = root.TraceId[16..], ["ot-tracer-spanid"] = balancer.SpanId, ["ot-tracer-sampled"] = "1", // ot: 64 bits
            ["x-amzn-trace-id"] = $"Root=1-{root.TraceId[..8]}-{root.TraceId[8..]};Parent={balancer.SpanId};Sampled=1",
            ["x-cloud-trace-context"] = $"{root.TraceId}/{Dec(balancer.SpanId)};o=1",
            ["x-datadog-trace-id"] = Dec(root.TraceId[16..]), ["x-datadog-parent-id"] = Dec(balancer.SpanId), ["x-datadog-sampling-priority"] = "1",
            ["x-instana-t"] = root.TraceId, ["x-instana-s"] = balancer.SpanId, ["x-instana-l"] = "1",
        };
        foreach (var (name, value) in expected)
            Assert.True(value == EchoedHeader(echo!, name), $"{name}: expected {value}, got {EchoedHeader(echo!, name)}");
    }

    [Theory]
    [InlineData("w3c", "traceparent", "00-" + Trace + "-0000000000000000-01", "invalid W3C trace context parent ID; ignoring.")]
    [InlineData("jaeger", "uber-trace-id", Trace + ":" + Parent, "invalid jaeger uber-trace-id header; ignoring.")]
    [InlineData("aws", "x-amzn-trace-id", "Root=1-" + Trace + ";Parent=" + Parent, "invalid aws header trace id; ignoring.")]
    [InlineData("gcp", "x-cloud-trace-context", Trace + "/" + Parent, "invalid GCP header; ignoring.")]
    [InlineData("datadog", "x-datadog-sampling-priority", "high", "x-datadog-sampling-priority header invalid; ignoring.")]
    public async Task An_invalid_header_is_ignored_with_Kongs_warning_and_a_new_trace_begins(string format, string header, string value, string warning)
    {
        await AddPlugin(Config(propagation: new { extract = new[] { format }, inject = new[] { "preserve" }, default_format = "w3c" }));
        var (status, echo) = await Get($"/api/invalid-{format}", (header, value), ("x-datadog-trace-id", Dec(Trace8)));
        Assert.Equal(200, status);
        await Eventually.TrueAsync(() => _collector.Spans.Any(s => s.Name == "kong"));
        var root = Assert.Single(_collector.Spans, s => s.Name == "kong");
        Assert.Equal("", root.ParentSpanId);
        Assert.DoesNotContain(Trace8, root.TraceId);
        var balancer = Assert.Single(_collector.Spans, s => s.Name == "kong.balancer");
        Assert.Equal($"00-{root.TraceId}-{balancer.SpanId}-01", EchoedHeader(echo!, "traceparent")); // nothing found: default_format
        // once: the header is read once per request, whichever step decides the sampling
        Assert.Single(_log.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.EndsWith(warning, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Header_type_extracts_every_format_in_Kongs_order_and_injects_the_one_found_and_its_own()
    {
        await AddPlugin(new { traces_endpoint = _collector.TracesUrl, sampling_rate = 1.0, header_type = "datadog", queue = new { max_coalescing_delay = 0.05 } });
        // b3 comes before jaeger in Kong's order
        var (_, echo) = await Get("/api/header-type", ("uber-trace-id", $"{Trace}:{Parent}:0:1"), ("x-b3-traceid", Trace8), ("x-b3-spanid", Parent));
        await Eventually.TrueAsync(() => _collector.Spans.Any(s => s.Name == "kong"));
        var root = Assert.Single(_collector.Spans, s => s.Name == "kong");
        Assert.Equal("0000000000000000" + Trace8, root.TraceId);
        var balancer = Assert.Single(_collector.Spans, s => s.Name == "kong.balancer");
        Assert.Equal(Trace8, EchoedHeader(echo!, "x-b3-traceid"));
        Assert.Equal(balancer.SpanId, EchoedHeader(echo!, "x-b3-spanid"));
        Assert.Equal(Dec(Trace8), EchoedHeader(echo!, "x-datadog-trace-id"));
        Assert.Equal($"{Trace}:{Parent}:0:1", EchoedHeader(echo!, "uber-trace-id")); // not injected: passed on as sent
    }

    /// <summary>Kong's sampler: the trace id's first 8 bytes (little-endian) below rate × 2^64. At 0.5 these two
    /// differ only in the byte that decides; a client's "sampled" does not bypass the rate, its "not sampled" wins.</summary>
    [Fact]
    public async Task Sampling_is_decided_by_the_trace_id_so_the_same_trace_gets_the_same_decision()
    {
        const string sampled = "ffffffffffffff7f0000000000000001";   // 2^63 - 1 < 2^63
        const string unsampled = "00000000000000800000000000000001"; // 2^63, not below
        await AddPlugin(Config(sampling: 0.5));
        for (var i = 0; i < 3; i++)
        {
            Assert.EndsWith("-01", EchoedHeader((await Get("/api/s", ("traceparent", $"00-{sampled}-{Parent}-01"))).Echo!, "traceparent"));
            Assert.EndsWith("-00", EchoedHeader((await Get("/api/u", ("traceparent", $"00-{unsampled}-{Parent}-01"))).Echo!, "traceparent"));
        }
        // a client that says "not sampled" wins over the rate
        Assert.EndsWith("-00", EchoedHeader((await Get("/api/n", ("traceparent", $"00-{sampled}-{Parent}-00"))).Echo!, "traceparent"));
        await Eventually.TrueAsync(() => _collector.Spans.Count(s => s.Name == "kong") >= 3);
        await Task.Delay(300);
        Assert.All(_collector.Spans, s => Assert.Equal(sampled, s.TraceId));
        Assert.Equal(3, _collector.Spans.Count(s => s.Name == "kong"));
    }

    [Fact]
    public async Task A_rate_of_one_half_samples_about_half_of_many_trace_ids_each_as_the_sampler_decides()
    {
        await AddPlugin(Config(sampling: 0.5, propagation: new { extract = new[] { "w3c" }, inject = new[] { "w3c" }, default_format = "w3c" }));
        var count = 0;
        for (var i = 0; i < 200; i++)
        {
            var trace = System.Diagnostics.ActivityTraceId.CreateRandom();
            var (_, echo) = await Get("/api/many", ("traceparent", $"00-{trace.ToHexString()}-{Parent}-01"));
            var decided = EchoedHeader(echo!, "traceparent").EndsWith("-01", StringComparison.Ordinal);
            Assert.Equal(TraceIdSampler.Sample(trace, 0.5), decided);
            if (decided) count++;
        }
        Assert.InRange(count, 70, 130); // binomial(200, 0.5): beyond ±30 is < 1 in 10^4
    }

    /// <summary>A request with no trace context gets a new trace id, and the upstream is told that id with the decision
    /// the sampler made on it: a service that samples by trace id at the same rate agrees with the gateway.</summary>
    [Fact]
    public async Task A_new_trace_is_propagated_with_the_id_its_sampling_decision_was_made_on()
    {
        await AddPlugin(Config(sampling: 0.5));
        var decisions = new List<bool>();
        for (var i = 0; i < 60; i++)
        {
            var (_, echo) = await Get("/api/new");
            var parts = EchoedHeader(echo!, "traceparent").Split('-');
            Assert.Equal(4, parts.Length);
            var sampled = parts[3] == "01";
            Assert.Equal(TraceIdSampler.Sample(System.Diagnostics.ActivityTraceId.CreateFromString(parts[1]), 0.5), sampled);
            decisions.Add(sampled);
        }
        Assert.Contains(true, decisions);
        Assert.Contains(false, decisions);
    }

    /// <summary>The plugin as the first access step decides sampling before the request's trace is made; a request it
    /// samples so still has every span Kong records before the plugin's step (the request's, the router's, the plugin's
    /// own step), timed where they happened, in the client's trace.</summary>
    [Fact]
    public async Task A_trace_sampled_before_it_is_made_has_the_request_router_and_plugin_spans_in_order()
    {
        const string sampled = "ffffffffffffff7f0000000000000001"; // sampled at 0.5 (Sampling_is_decided_by_the_trace_id…)
        await AddPlugin(Config(sampling: 0.5));
        var (status, echo) = await Get("/api/upfront", ("traceparent", $"00-{sampled}-{Parent}-01"));
        Assert.Equal(200, status);
        await Eventually.TrueAsync(() => _collector.Spans.Any(s => s.Name == "kong"));
        var spans = _collector.Spans;
        var root = Assert.Single(spans, s => s.Name == "kong");
        Assert.Equal(sampled, root.TraceId);
        Assert.Equal(Parent, root.ParentSpanId);
        var router = Assert.Single(spans, s => s.Name == "kong.router");
        var step = Assert.Single(spans, s => s.Name == "kong.access.plugin.opentelemetry");
        var balancer = Assert.Single(spans, s => s.Name == "kong.balancer");
        Assert.All(new[] { router, step, balancer }, s => Assert.Equal(root.SpanId, s.ParentSpanId));
        Assert.InRange(router.StartNanos, root.StartNanos, router.EndNanos);
        Assert.InRange(router.EndNanos, router.StartNanos, step.StartNanos);
        Assert.InRange(step.EndNanos, step.StartNanos, root.EndNanos);
        Assert.Equal($"00-{sampled}-{balancer.SpanId}-01", EchoedHeader(echo!, "traceparent"));
    }

    /// <summary>key-auth (priority 1250) runs before the plugin in access; the plugin decides on the client's trace id
    /// (before key-auth and again at its own step: <see cref="OpenTelemetryStepsAheadTests"/>): a request it leaves
    /// out exports nothing, one it samples has key-auth's step span.</summary>
    [Fact]
    public async Task A_step_ahead_of_the_plugin_is_traced_and_the_plugin_still_decides_on_its_trace_id()
    {
        const string sampled = "ffffffffffffff7f0000000000000001", unsampled = "00000000000000800000000000000001";
        await AddPlugin(Config(sampling: 0.5));
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "key-auth", config = new { } });
        await _gw.CreateAsync("/consumers", new { username = "c" });
        await _gw.CreateAsync("/consumers/c/key-auth", new { key = "k" });
        var (_, left) = await Get("/api/left", ("apikey", "k"), ("traceparent", $"00-{unsampled}-{Parent}-01"));
        Assert.Matches($"^00-{unsampled}-[0-9a-f]{{16}}-00$", EchoedHeader(left!, "traceparent"));
        var (_, kept) = await Get("/api/kept", ("apikey", "k"), ("traceparent", $"00-{sampled}-{Parent}-01"));
        await Eventually.TrueAsync(() => _collector.Spans.Any(s => s.Name == "kong"));
        var root = Assert.Single(_collector.Spans, s => s.Name == "kong");
        Assert.Equal(sampled, root.TraceId);
        Assert.All(_collector.Spans, s => Assert.Equal(sampled, s.TraceId));
        Assert.Contains(_collector.Spans, s => s.Name == "kong.access.plugin.key-auth");
        Assert.Contains(_collector.Spans, s => s.Name == "kong.router");
        var balancer = Assert.Single(_collector.Spans, s => s.Name == "kong.balancer");
        Assert.Equal($"00-{sampled}-{balancer.SpanId}-01", EchoedHeader(kept!, "traceparent"));
    }

    /// <summary>A request refused before the plugin's access step (key-auth, priority 1250) never had the plugin's
    /// decision: as Kong's request span, it is sampled at tracing_sampling_rate (0 here), not at sampling_rate (1).</summary>
    [Fact]
    public async Task A_request_refused_before_the_plugins_access_step_is_sampled_at_tracing_sampling_rate()
    {
        await AddPlugin(Config(sampling: 1));
        await _gw.ServiceAndRouteAsync("svc2", "/locked");
        await _gw.CreateAsync("/routes/svc2-route/plugins", new { name = "key-auth", config = new { } });
        var (status, _) = await Get("/locked/refused");
        Assert.Equal(401, status);
        // a marker through the same instance and queue after it: had the refused request been exported, its spans
        // would come first
        var (_, marked) = await Get("/api/marker");
        Assert.EndsWith("-01", EchoedHeader(marked!, "traceparent"));
        await Eventually.TrueAsync(() => _collector.Spans.Any(s => s.Name == "kong"));
        var root = Assert.Single(_collector.Spans, s => s.Name == "kong");
        Assert.EndsWith("/api/marker", (string)root.Attributes["http.url"]);
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
        await Eventually.TrueAsync(() => _collector.Spans.Any(s => s.Name == "kong"));
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
        await Eventually.TrueAsync(() => metrics.OpenTelemetrySpansDropped.WithLabels("export_failed").Value - before >= 5 * 4);
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
        await Eventually.TrueAsync(() => _collector.Spans.Any(s => s.Name == "kong"));
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
        await Eventually.TrueAsync(() => metrics.OpenTelemetrySpansDropped.WithLabels("queue_full").Value - before >= 2);
        foreach (var client in held.ToArray()) client.Dispose();
    }

    [Fact]
    public async Task A_drain_that_times_out_at_stop_counts_every_span_it_did_not_export()
    {
        // a collector that answers after 30 s: when the gateway stops, the first batch's export is still under way and
        // the other batches are queued behind it, so the 5 s drain times out
        await using var slow = await OtlpReceiver.StartAsync(answerDelay: TimeSpan.FromSeconds(30));
        var traceIds = new System.Collections.Concurrent.ConcurrentDictionary<System.Diagnostics.ActivityTraceId, byte>();
        var made = 0;
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = s => s.Name == SpanExporters.SourceName,
            ActivityStarted = a => { if (traceIds.ContainsKey(a.TraceId)) Interlocked.Increment(ref made); },
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        var gw = await PluginGateway.StartAsync(configure: o => o with { TracingInstrumentations = ["all"], TracingSamplingRate = 1 });
        await gw.ServiceAndRouteAsync("svc", "/api");
        await gw.CreateAsync("/plugins", new { name = "opentelemetry", config = new
        {
            traces_endpoint = slow.TracesUrl, queue = new { max_batch_size = 2, max_coalescing_delay = 0.05 },
        } });
        var metrics = gw.Host.Services.GetRequiredService<PrometheusMetrics>();
        string[] reasons = ["queue_full", "export_failed", "shutdown"];
        var before = reasons.Select(r => metrics.OpenTelemetrySpansDropped.WithLabels(r).Value).ToArray();
        for (var i = 0; i < 5; i++)
        {
            var traceId = System.Diagnostics.ActivityTraceId.CreateRandom();
            traceIds[traceId] = 0;
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/{i}");
            request.Headers.Add("traceparent", $"00-{traceId.ToHexString()}-00f067aa0ba902b7-01");
            using var response = await gw.Proxy.SendAsync(request);
            Assert.Equal(200, (int)response.StatusCode);
        }
        await Eventually.TrueAsync(() => slow.Exports >= 1);
        await gw.DisposeAsync();
        var dropped = reasons.Select((r, i) => metrics.OpenTelemetrySpansDropped.WithLabels(r).Value - before[i]).ToArray();
        Assert.True(Volatile.Read(ref made) >= 5 * 4, $"{made} spans made");
        Assert.Empty(slow.Spans); // none was exported
        Assert.Equal(Volatile.Read(ref made), dropped.Sum()); // and every one is counted
        Assert.True(dropped[2] > 0, "the queued spans count as shutdown");
    }

    [Theory]
    [InlineData("""{"traces_endpoint":"http://c/v1/traces","logs_endpoint":"http://c/v1/logs"}""", "logs_endpoint", "logs export is not implemented")]
    [InlineData("""{"traces_endpoint":"http://c/v1/traces","queue":{"max_retry_time":5}}""", "queue", "queue retries are not implemented")]
    [InlineData("""{"headers":{"a":"b"}}""", null, "at least one of these fields must be non-empty")]
    [InlineData("""{"traces_endpoint":"http://c/v1/traces","propagation":{"extract":["b3-single"],"default_format":"w3c"}}""", "propagation", "expected one of")]
    [InlineData("""{"traces_endpoint":"http://c/v1/traces","propagation":{"inject":["zipkin"],"default_format":"w3c"}}""", "propagation", "expected one of")]
    public async Task What_is_not_implemented_is_refused_naming_the_field(string config, string? field, string message)
    {
        var (status, body) = await _gw.PostAsync("/plugins", JsonNode.Parse($$"""{"name":"opentelemetry","config":{{config}}}""")!);
        Assert.Equal(400, status);
        var text = (string)body!["message"]!;
        Assert.True(text.Contains(message, StringComparison.Ordinal), text);
        if (field is not null) Assert.NotNull(body["fields"]?["config"]?[field]);
    }
}
