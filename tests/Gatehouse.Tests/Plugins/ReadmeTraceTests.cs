using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Wasm;

namespace Gatehouse.Tests.Plugins;

/// <summary>
/// README's "A trace of one request": the tour's request (route <c>tour</c> with key-auth and the <c>tour-chain</c>
/// filter chain of require-header and add-headers, plus the opentelemetry plugin) run for real, its spans received by
/// a real OTLP/HTTP collector (<see cref="OtlpReceiver"/>) and rendered as a tree (names, kinds, key attributes, no
/// durations). The README block between the markers must equal it; with <c>GATEHOUSE_UPDATE_README_TRACE=1</c> the
/// test writes the block instead.
/// </summary>
public sealed class ReadmeTraceTests
{
    private const string Begin = "<!-- trace-of-one-request: written by ReadmeTraceTests -->";
    private const string End = "<!-- /trace-of-one-request -->";

    [Fact]
    public async Task The_README_shows_the_span_tree_of_the_tours_request()
    {
        var filters = WasmPaths.CopyFilters(WasmPaths.Examples, "add-headers", "require-header");
        try
        {
            await using var collector = await OtlpReceiver.StartAsync();
            await using var gw = await PluginGateway.StartAsync(configure: o => o with
            {
                Wasm = true, WasmFiltersPath = filters, TracingInstrumentations = ["all"],
            });
            await gw.CreateAsync("/services", new { name = "admin", url = $"http://127.0.0.1:{gw.Upstream.Port}" });
            await gw.CreateAsync("/services/admin/routes", new { name = "tour", paths = new[] { "/tour" } });
            await gw.CreateAsync("/routes/tour/filter-chains", JsonNode.Parse("""
                {"name": "tour-chain", "filters": [
                  {"name": "require-header", "config": {"header": "x-api-client", "status": 403, "body": "who are you?"}},
                  {"name": "add-headers", "config": {"response": {"add": {"x-tour": "yes"}}}}
                ]}
                """)!.ToJsonString());
            await gw.CreateAsync("/routes/tour/plugins", new { name = "key-auth" });
            await gw.CreateAsync("/consumers", new { username = "alice" });
            await gw.CreateAsync("/consumers/alice/key-auth", new { key = "secret" });
            await gw.CreateAsync("/plugins", new
            {
                name = "opentelemetry",
                config = new { traces_endpoint = collector.TracesUrl, sampling_rate = 1, queue = new { max_coalescing_delay = 0.05 } },
            });

            using var request = new HttpRequestMessage(HttpMethod.Get, "/tour/status");
            request.Headers.Add("x-api-client", "me");
            request.Headers.Add("apikey", "secret");
            using var response = await gw.Proxy.SendAsync(request);
            Assert.Equal(200, (int)response.StatusCode);
            for (var i = 0; i < 500 && !collector.Spans.Any(s => s.Name == "kong"); i++) await Task.Delay(20);

            await WriteOrCheckAsync(Path.Combine(WasmPaths.Repo, "README.md"), Begin, End, Render(collector.Spans));
        }
        finally { Directory.Delete(filters, recursive: true); }
    }

    /// <summary>docs/observability.md's example: a POST through two plugins and two filters, one of them (the test
    /// filter <c>phases</c>) exporting every callback.</summary>
    [Fact]
    public async Task The_observability_doc_shows_the_span_tree_of_a_request_through_two_plugins_and_two_filters()
    {
        var filters = WasmPaths.CopyFilters(WasmPaths.Examples, "add-headers");
        File.Copy(Path.Combine(WasmPaths.Repo, "filters", "test", "phases.wasm"), Path.Combine(filters, "phases.wasm"));
        try
        {
            await using var collector = await OtlpReceiver.StartAsync();
            await using var gw = await PluginGateway.StartAsync(configure: o => o with
            {
                Wasm = true, WasmFiltersPath = filters, TracingInstrumentations = ["all"],
            });
            await gw.ServiceAndRouteAsync("svc", "/api");
            await gw.CreateAsync("/routes/svc-route/plugins", new { name = "correlation-id", config = new { } });
            await gw.CreateAsync("/routes/svc-route/plugins", new { name = "request-transformer", config = new { add = new { headers = new[] { "x-rt:1" } } } });
            await gw.CreateAsync("/routes/svc-route/filter-chains", JsonNode.Parse("""
                {"name": "api-chain", "filters": [
                  {"name": "add-headers", "config": {"request": {"add": {"x-filter": "1"}}}},
                  {"name": "phases", "config": "{}"}
                ]}
                """)!.ToJsonString());
            await gw.CreateAsync("/plugins", new
            {
                name = "opentelemetry",
                config = new { traces_endpoint = collector.TracesUrl, sampling_rate = 1, queue = new { max_coalescing_delay = 0.05 } },
            });

            using var response = await gw.Proxy.PostAsync("/api/one", new StringContent("hello", Encoding.UTF8, "text/plain"));
            Assert.Equal(200, (int)response.StatusCode);
            await response.Content.ReadAsByteArrayAsync();
            for (var i = 0; i < 500 && !collector.Spans.Any(s => s.Name == "kong"); i++) await Task.Delay(20);
            await WriteOrCheckAsync(Path.Combine(WasmPaths.Repo, "docs", "observability.md"),
                "<!-- filter-trace-example: written by ReadmeTraceTests -->", "<!-- /filter-trace-example -->", Render(collector.Spans));
        }
        finally { Directory.Delete(filters, recursive: true); }
    }

    /// <summary>Asserts the block between the markers is <paramref name="tree"/>, or writes it there when
    /// <c>GATEHOUSE_UPDATE_README_TRACE=1</c>.</summary>
    private static async Task WriteOrCheckAsync(string file, string begin, string end, string tree)
    {
        var text = await File.ReadAllTextAsync(file);
        var start = text.IndexOf(begin, StringComparison.Ordinal);
        var stop = text.IndexOf(end, StringComparison.Ordinal);
        Assert.True(start >= 0 && stop > start, $"{file} has no {begin} … {end} markers");
        var block = $"{begin}\n```text\n{tree}```\n{end}";
        if (Environment.GetEnvironmentVariable("GATEHOUSE_UPDATE_README_TRACE") == "1")
        {
            await File.WriteAllTextAsync(file, string.Concat(text.AsSpan(0, start), block, text.AsSpan(stop + end.Length)));
            return;
        }
        Assert.Equal(block, text[start..(stop + end.Length)]);
    }

    /// <summary>The spans as a tree, children in the order they started.</summary>
    internal static string Render(IReadOnlyList<ReceivedSpan> spans)
    {
        var root = Assert.Single(spans, s => s.ParentSpanId == "");
        var text = new StringBuilder();
        text.Append(Label(root)).Append('\n');
        Children(root, "");
        return text.ToString();

        void Children(ReceivedSpan parent, string indent)
        {
            var children = spans.Where(s => s.ParentSpanId == parent.SpanId).OrderBy(s => s.StartNanos).ToList();
            for (var i = 0; i < children.Count; i++)
            {
                var last = i == children.Count - 1;
                text.Append(indent).Append(last ? "└── " : "├── ").Append(Label(children[i])).Append('\n');
                Children(children[i], indent + (last ? "    " : "│   "));
            }
        }
    }

    private static string Label(ReceivedSpan span)
    {
        var a = span.Attributes;
        string? Get(string key) => a.TryGetValue(key, out var v) ? Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) : null;
        var kind = span.Kind switch { 2 => "SERVER", 3 => "CLIENT", 4 => "PRODUCER", 5 => "CONSUMER", _ => null };
        var details = new List<string>();
        if (kind is not null) details.Add(kind);
        if (span.Name == "kong")
        {
            details.Add($"{Get("http.method")} {new Uri(Get("http.url")!).PathAndQuery}");
            details.Add($"route {Get("http.route")}");
            details.Add($"{Get("http.status_code")}");
        }
        if (Get("try_count") is { } tryCount) details.Add($"try {tryCount}");
        if (Get("gatehouse.filter.callback") is { } callback)
        {
            details.Add(callback);
            details.Add(Get("gatehouse.phase")!);
            details.Add(Get("gatehouse.filter.outcome")!);
            // no gatehouse.filter.calls: how many chunks a body arrives in is the network's choice
            details.Add(Get("gatehouse.filter_chain.name") is { } chain ? $"{Get("gatehouse.filter_chain.scope")} chain {chain}" : $"{Get("gatehouse.filter_chain.scope")} chain");
        }
        if (span.StatusCode == 2) details.Add("ERROR");
        return details.Count == 0 ? span.Name : $"{span.Name} ({string.Join(", ", details)})";
    }
}
