using System.Buffers.Binary;
using System.Text.Json.Nodes;
using Gatehouse.Model;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Plugins;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Wasm;

/// <summary>
/// The request/response properties ngx_wasm_module answers (its hfuncs/117 cases) and the meta.json
/// <c>property_encoding</c> switch: the same real C <c>phases</c> filter runs twice on the real gateway, as
/// <c>phases</c> (Envoy's binary encoding, the default) and as <c>phases_ngx</c> (meta.json
/// <c>"property_encoding": "ngx_wasm_module"</c>, every value as ngx_wasm_module's text). The filter reports each read
/// in an <c>x-property-&lt;name&gt;</c> response header (binary as <c>hex:…</c>, NOT_FOUND as <c>!status=1</c>), and in
/// its log (<c>property:&lt;name&gt;=…</c>) for reads in the log phase. Access logging is off, so nothing but the
/// filter's own need makes the gateway count the body bytes.
/// </summary>
public sealed class PropertyEncodingTests : IAsyncLifetime
{
    private static readonly string[] RequestNames =
    [
        "request.referer", "request.useragent", "request.size", "request.duration", "request.is_subrequest", "request.time",
        "source.address", "source.port", "upstream.address", "kong.node.memory_stats", "kong.configuration.role",
        "request.path", "request.url_path", "request.host", "request.scheme", "request.method", "request.query", "request.id",
        "request.protocol", "plugin_root_id",
    ];

    private readonly string _filters = WasmPaths.CopyFilters(Path.Combine(WasmPaths.Repo, "filters", "test"), "phases");
    private readonly FilterLogCapture _logs = new();
    private EchoUpstream _upstream = null!;
    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync()
    {
        File.Copy(Path.Combine(_filters, "phases.wasm"), Path.Combine(_filters, "phases_ngx.wasm"));
        await File.WriteAllTextAsync(Path.Combine(_filters, "phases_ngx.meta.json"), """{"property_encoding":"ngx_wasm_module"}""");
        _upstream = await EchoUpstream.StartAsync();
        _gateway = await GatewayFixture.StartAsync(
            configure: o => o with { Wasm = true, WasmFiltersPath = _filters, ProxyAccessLog = null, LogLevel = "info" },
            services: s => s.AddSingleton<ILoggerProvider>(_logs));
        var service = TestConfig.Service(_upstream);
        var envoy = TestConfig.Route(service, "envoy", paths: ["/envoy"]);
        var ngx = TestConfig.Route(service, "ngx", paths: ["/ngx"]);
        static JsonObject Read(string name) => new() { ["action"] = "get_property", ["name"] = name };
        var config = new JsonObject
        {
            ["request_headers"] = new JsonArray([.. RequestNames.Select(n => (JsonNode)Read(n))]),
            ["response_headers"] = new JsonArray(Read("response.code"), Read("response.size")),
            ["log"] = new JsonArray(Read("response.size")),
        }.ToJsonString();
        _gateway.Publish(TestConfig.Of([service], [envoy, ngx]) with
        {
            FilterChains =
            [
                new FilterChainModel { Id = Guid.NewGuid(), RouteId = envoy.Id, Filters = [new("phases", true, config)] },
                new FilterChainModel { Id = Guid.NewGuid(), RouteId = ngx.Id, Filters = [new("phases_ngx", true, config)] },
            ],
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        Directory.Delete(_filters, true);
    }

    private async Task<(Func<string, string> Reported, int BodyLength)> SendAsync(string path, bool withHeadersAndBody)
    {
        // without: a GET with no Content-Length (a POST without content still sends "Content-Length: 0", size 0)
        var request = new HttpRequestMessage(withHeadersAndBody ? HttpMethod.Post : HttpMethod.Get,
            new Uri(_gateway.ProxyUri, withHeadersAndBody ? path + "/Ab/c?special_arg=true&x=%20" : path));
        if (withHeadersAndBody)
        {
            request.Headers.TryAddWithoutValidation("Referer", "a-referer");
            request.Headers.TryAddWithoutValidation("User-Agent", "a-user-agent");
            request.Headers.TryAddWithoutValidation("X-Request-Id", "id123");
            request.Content = new StringContent("hello");
        }
        using var response = await _gateway.Client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(200, (int)response.StatusCode);
        var headers = response.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.Single());
        return (name => headers.TryGetValue("x-property-" + name, out var v) ? v : throw new InvalidOperationException("no report of " + name),
            body.Length);
    }

    private static long Int64(string reported)
    {
        Assert.StartsWith("hex:", reported);
        var bytes = Convert.FromHexString(reported[4..]);
        Assert.Equal(8, bytes.Length);
        return BinaryPrimitives.ReadInt64LittleEndian(bytes);
    }

    [Fact]
    public async Task Ngx_wasm_module_encoding_answers_its_text_values()
    {
        var (reported, bodyLength) = await SendAsync("/ngx", withHeadersAndBody: true);
        Assert.Equal("a-referer", reported("request.referer"));
        Assert.Equal("a-user-agent", reported("request.useragent"));
        Assert.Equal("5", reported("request.size")); // $content_length
        Assert.Matches(@"^\d+\.\d{3}$", reported("request.duration")); // $request_time
        Assert.Equal("false", reported("request.is_subrequest"));
        Assert.Matches(@"^\d+\.\d{3}$", reported("request.time"));
        Assert.Equal("127.0.0.1", reported("source.address"));
        Assert.Matches(@"^\d+$", reported("source.port"));
        Assert.Equal("200", reported("response.code"));
        // $body_bytes_sent: nothing sent yet in response_headers (ngx's "response.size: 0 at ResponseHeaders")
        Assert.Equal("0", reported("response.size"));
        Assert.Equal("!status=1", reported("upstream.address")); // no balanced upstream: no peer, as ngx without an upstream
        Assert.Equal("traditional", reported("kong.configuration.role"));
        // ngx_wasm_module's variables: $request_uri as sent, $uri (the normalised path: ngx.uri),
        // $hostname (the machine's name, ngx_wasm_module's mapping of request.host), $args
        Assert.Equal("/ngx/Ab/c?special_arg=true&x=%20", reported("request.path"));
        Assert.Equal("/ngx/Ab/c", reported("request.url_path"));
        Assert.Equal(Environment.MachineName, reported("request.host"));
        Assert.Equal("http", reported("request.scheme"));
        Assert.Equal("POST", reported("request.method"));
        Assert.Equal("special_arg=true&x=%20", reported("request.query"));
        Assert.Equal("id123", reported("request.id"));
        Assert.Equal("HTTP/1.1", reported("request.protocol"));
        Assert.Matches(@"^\d+$", reported("plugin_root_id")); // the root context's id, as ngx_wasm_module (no meta.json root_id)
        // in the log phase the whole body went out
        await _logs.WaitForAsync(m => m.Contains($"property:response.size={bodyLength}", StringComparison.Ordinal));
        Assert.True(bodyLength > 0);
    }

    [Fact]
    public async Task Envoy_encoding_answers_typed_values()
    {
        var (reported, bodyLength) = await SendAsync("/envoy", withHeadersAndBody: true);
        Assert.Equal("a-referer", reported("request.referer"));
        Assert.Equal("a-user-agent", reported("request.useragent"));
        Assert.Equal(5, Int64(reported("request.size")));
        Assert.InRange(Int64(reported("request.duration")), 0, long.MaxValue); // nanoseconds
        Assert.Equal("hex:00", reported("request.is_subrequest"));
        Assert.Matches(@"^127\.0\.0\.1:\d+$", reported("source.address"));
        Assert.Equal(200, Int64(reported("response.code")));
        Assert.Equal(0, Int64(reported("response.size")));
        // Envoy's: the request's own path (raw, no normalisation), its Host, its query
        Assert.Equal("/envoy/Ab/c?special_arg=true&x=%20", reported("request.path"));
        Assert.Equal("/envoy/Ab/c", reported("request.url_path"));
        Assert.Equal($"127.0.0.1:{_gateway.ProxyUri.Port}", reported("request.host"));
        Assert.Equal("special_arg=true&x=%20", reported("request.query"));
        Assert.Equal("id123", reported("request.id"));
        Assert.Equal("", reported("plugin_root_id")); // Envoy's: the configured root_id, "" by default
        var hex = Convert.ToHexString(BitConverter.GetBytes((long)bodyLength)); // little-endian on every supported platform
        await _logs.WaitForAsync(m => m.Contains("property:response.size=hex:" + hex, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Request_values_without_their_header_are_not_found_in_both_encodings()
    {
        foreach (var path in new[] { "/ngx", "/envoy" })
        {
            var (reported, _) = await SendAsync(path, withHeadersAndBody: false);
            Assert.Equal("!status=1", reported("request.referer"));
            Assert.Equal("!status=1", reported("request.size"));
            Assert.Equal("!status=1", reported("request.useragent")); // HttpClient sends no User-Agent of its own
        }
        // ngx_wasm_module: X-Request-Id only; Envoy: the gateway's id. Without a query both answer "" (ngx_wasm_module:
        // not found; docs/proxy-wasm-conformance.md)
        var (ngx, _) = await SendAsync("/ngx", withHeadersAndBody: false);
        Assert.Equal("!status=1", ngx("request.id"));
        Assert.Equal("", ngx("request.query"));
        var (envoy, _) = await SendAsync("/envoy", withHeadersAndBody: false);
        Assert.NotEqual("!status=1", envoy("request.id"));
        Assert.Equal("", envoy("request.query"));
    }

    [Fact]
    public async Task Memory_stats_have_Kongs_shape_with_this_process()
    {
        var (reported, _) = await SendAsync("/ngx", withHeadersAndBody: true);
        var stats = JsonNode.Parse(reported("kong.node.memory_stats"))!.AsObject();
        var vm = Assert.Single(stats["workers_lua_vms"]!.AsArray())!;
        Assert.Equal(Environment.ProcessId, vm["pid"]!.GetValue<int>()); // the gateway runs in this test process
        Assert.True(vm["http_allocated_gc"]!.GetValue<long>() > 0);
        Assert.Empty(stats["lua_shared_dicts"]!.AsObject());
    }

    [Fact]
    public void An_unknown_property_encoding_stops_the_start()
    {
        var dir = WasmPaths.CopyFilters(Path.Combine(WasmPaths.Repo, "filters", "test"), "phases");
        try
        {
            File.WriteAllText(Path.Combine(dir, "phases.meta.json"), """{"property_encoding":"text"}""");
            var e = Assert.Throws<Gatehouse.Wasm.WasmStartupException>(() => Gatehouse.Wasm.WasmFilterCatalog.Load(
                new Gatehouse.Config.GatehouseOptions { Wasm = true, WasmFiltersPath = dir, WasmFilters = ["user"] }));
            Assert.Contains("phases.meta.json) file contains invalid metadata: property property_encoding validation failed: expected one of: envoy, ngx_wasm_module", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
