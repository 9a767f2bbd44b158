using System.Text;
using ProxyWasm.Abi;
using ProxyWasm.Http;

namespace ProxyWasm.Tests.RealFilters;

/// <summary><c>filters/examples/*.wasm</c> with their committed sample configurations (filters/examples/README.md).</summary>
public sealed class ExampleFilterTests
{
    private static string Sample(string name) => File.ReadAllText(RealFilterHost.FilterPath($"filters/examples/{name}.config.json"));

    private static string Module(string name) => $"filters/examples/{name}.wasm";

    [Fact]
    public async Task Add_headers_removes_then_sets_request_and_response_headers()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Module("add-headers"), Sample("add-headers"));

        var x = await h.SendAsync(p, new RequestSpec
        {
            Headers = [("X-Internal", "secret"), ("x-gateway", "client-sent"), ("x-keep", "1")],
            ResponseHeaders = [("Server", "upstream/1.0"), ("x-frame-options", "SAMEORIGIN"), ("content-type", "text/plain")],
            ResponseBody = ["ok"],
        });

        Assert.Equal(FilterOutcome.Continue, x.Final);
        Assert.Empty(x.Stream.RequestHeaders.GetValues("x-internal")); // case-insensitive removal
        Assert.Equal(["gatehouse"], x.Stream.RequestHeaders.GetValues("x-gateway")); // set, not added
        Assert.Equal(["1"], x.Stream.RequestHeaders.GetValues("x-keep"));
        Assert.Empty(x.Stream.ResponseHeaders.GetValues("server"));
        Assert.Equal(["DENY"], x.Stream.ResponseHeaders.GetValues("x-frame-options"));
        Assert.Equal("ok", x.DeliveredResponseBody);
    }

    [Fact]
    public async Task Body_rewrite_buffers_every_chunk_drops_content_length_and_rewrites_the_whole_body()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Module("body-rewrite"), Sample("body-rewrite"));

        var x = await h.SendAsync(p, new RequestSpec
        {
            ResponseHeaders = [("content-type", "text/plain; charset=utf-8"), ("content-length", "17")],
            ResponseBody = ["hel", "lo world, ", "hello"], // "hello" split across chunks: only a whole-body rewrite catches it
        });

        Assert.Equal(FilterOutcome.Continue, x.Final);
        Assert.Null(x.ResponseHeader("content-length"));
        Assert.Equal("goodbye world, goodbye\n-- rewritten by gatehouse\n", x.DeliveredResponseBody);
        Assert.Equal(
            [FilterOutcomeKind.BufferBody, FilterOutcomeKind.BufferBody, FilterOutcomeKind.Continue],
            x.Outcomes.Where(o => o.Phase == "response_body").Select(o => o.Outcome.Kind));
    }

    [Fact]
    public async Task Body_rewrite_leaves_other_content_types_untouched()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Module("body-rewrite"), Sample("body-rewrite"));
        var x = await h.SendAsync(p, new RequestSpec
        {
            ResponseHeaders = [("content-type", "application/json"), ("content-length", "11")],
            ResponseBody = ["hello", " world"],
        });
        Assert.Equal("11", x.ResponseHeader("content-length"));
        Assert.Equal("hello world", x.DeliveredResponseBody);
        Assert.DoesNotContain(x.Outcomes, o => o.Outcome.Kind == FilterOutcomeKind.BufferBody);
    }

    [Fact]
    public async Task Body_rewrite_prefix_and_append_without_find()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Module("body-rewrite"), """{"prefix":"<<","append":">>"}""");
        var x = await h.SendAsync(p, new RequestSpec { ResponseHeaders = [("content-length", "4")], ResponseBody = ["ab", "cd"] });
        Assert.Equal("<<abcd>>", x.DeliveredResponseBody);
        Assert.Null(x.ResponseHeader("content-length"));
    }

    [Fact]
    public async Task Require_header_answers_locally_with_the_configured_status_body_and_headers()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Module("require-header"), Sample("require-header"));

        var denied = await h.SendAsync(p, RequestSpec.Get("/private"));
        var empty = await h.SendAsync(p, RequestSpec.Get("/private", ("x-api-key", "")));
        var allowed = await h.SendAsync(p, RequestSpec.Get("/private", ("X-Api-Key", "k")));

        Assert.Equal(FilterOutcomeKind.LocalResponse, denied.OutcomeOf("request_headers").Kind);
        Assert.Equal(401, denied.Local!.StatusCode);
        Assert.Equal("missing x-api-key\n", Encoding.UTF8.GetString(denied.Local.Body.Span));
        Assert.Equal("require-header", denied.Local.Details);
        Assert.Contains(KeyValuePair.Create("www-authenticate", "ApiKey"), denied.Local.Headers);
        Assert.Equal(401, empty.Local?.StatusCode);
        Assert.Equal(FilterOutcome.Continue, allowed.Final);
        Assert.Null(allowed.Local);
    }

    [Fact]
    public async Task Require_header_with_a_value_checks_it_exactly()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Module("require-header"), """{"header":"x-token","value":"s3cret","status":403}""");
        var wrong = await h.SendAsync(p, RequestSpec.Get("/", ("x-token", "guess")));
        var right = await h.SendAsync(p, RequestSpec.Get("/", ("x-token", "s3cret")));
        Assert.Equal(403, wrong.Local?.StatusCode);
        Assert.Equal(0, wrong.Local!.Body.Length);
        Assert.Equal(FilterOutcome.Continue, right.Final);
    }

    [Fact]
    public async Task Request_counter_counts_in_shared_data_across_plugins_and_vms_and_in_a_metric()
    {
        using var h = new RealFilterHost();
        var a = h.Start(Module("request-counter"), Sample("request-counter"), new PluginOptions { PoolSize = 2 });
        var b = h.Start(Module("request-counter"), Sample("request-counter"), new PluginOptions { Name = "request-counter-2" });

        var counts = new List<string?>();
        foreach (var plugin in new[] { a, a, b })
        {
            counts.Add((await h.SendAsync(plugin, RequestSpec.Get())).ResponseHeader("x-request-count"));
        }

        Assert.Equal(["1", "2", "3"], counts);
        var metric = h.Metric("request-counter", "requests_total");
        Assert.Equal((MetricType.Counter, 2L), (metric!.Type, metric.Value));
        Assert.Equal(1L, h.Metric("request-counter-2", "requests_total")!.Value);
    }

    [Fact]
    public async Task Request_counter_loses_no_increment_when_vms_race_from_the_first_request()
    {
        // No seeding by the test: the filter creates its key in on_configure, so even the racing first
        // increments on different VMs are CAS-checked (sdk pw_shared_seed / pw_shared_increment).
        using var h = new RealFilterHost();
        var a = h.Start(Module("request-counter"), Sample("request-counter"), new PluginOptions { PoolSize = 3 });
        var b = h.Start(Module("request-counter"), Sample("request-counter"), new PluginOptions { Name = "request-counter-2", PoolSize = 2 });
        // the key exists before any request (read through the test filter "shared", same vm_id "")
        var probe = h.Start("filters/test/shared.wasm", "", new PluginOptions { Name = "probe" });
        var seeded = await h.SendAsync(probe, RequestSpec.Get("/", ("x-shared-get", "request-counter")));
        Assert.Equal(("0", "0"), (seeded.ResponseHeader("x-shared-status"), seeded.ResponseHeader("x-shared-value")));
        const int threads = 6, perThread = 10;
        var results = await Task.WhenAll(Enumerable.Range(0, threads).Select(t => Task.Run(async () =>
        {
            var values = new List<int>();
            for (int i = 0; i < perThread; i++)
            {
                var x = await h.SendAsync(t % 2 == 0 ? a : b, RequestSpec.Get());
                values.Add(int.Parse(x.ResponseHeader("x-request-count")!, System.Globalization.CultureInfo.InvariantCulture));
            }
            return values;
        })));
        Assert.Equal(Enumerable.Range(1, threads * perThread), results.SelectMany(v => v).Order());
    }
}
