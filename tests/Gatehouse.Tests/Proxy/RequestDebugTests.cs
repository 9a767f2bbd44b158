using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Proxy;
using Gatehouse.Proxy.Pipeline;
using Microsoft.Extensions.Logging;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Wasm;
using Xunit;

namespace Gatehouse.Tests.Proxy;

/// <summary>
/// Kong's request debugging (kong/timing, 21-request-debug) on the real gateway (SQLite, Admin API), a real echo
/// upstream, a real bundled plugin (correlation-id; key-auth for a refusal) and a real Proxy-Wasm filter
/// (response_transformer, as a plugin). The proxy listens on 127.0.0.1 and on a non-loopback address of this machine,
/// so both sides of Kong's loopback rule are real client addresses.
/// </summary>
public sealed class RequestDebugTests : IAsyncLifetime
{
    private readonly string _filters = WithExamples(WasmPaths.MixedFilters(), "require-header", "body-rewrite");
    private readonly LogCapture _log = new();
    private EchoUpstream _upstream = null!;
    private WasmGateway _gw = null!;
    private HttpClient _remote = null!;
    private string _correlationId = "";
    private string _keyAuthId = "";

    public async Task InitializeAsync()
    {
        _upstream = await EchoUpstream.StartAsync();
        var address = NonLoopbackAddress();
        _gw = await WasmGateway.StartAsync(dbless: false, filtersPath: _filters,
            configure: o => o with { LogLevel = "notice", ProxyListen = [.. o.ProxyListen, ListenAddress.Parse($"{address}:0")] },
            logging: _log.Install);
        _remote = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = _gw.Host.Addresses(ListenerKind.Proxy)[1] };
        var (_, routeId) = await _gw.ServiceAndRouteAsync("svc", _upstream.Port);
        _correlationId = await Created("/plugins", $$$"""{"name":"correlation-id","route":{"id":"{{{routeId}}}"}}""");
        await Created("/plugins", $$$"""{"name":"response_transformer","route":{"id":"{{{routeId}}}"},"config":"{\"append\":{\"headers\":[\"X-Filtered:yes\"]}}"}""");
        var (_, authRouteId) = await _gw.ServiceAndRouteAsync("auth", _upstream.Port);
        _keyAuthId = await Created("/plugins", $$$"""{"name":"key-auth","route":{"id":"{{{authRouteId}}}"}}""");
        var (_, denyRouteId) = await _gw.ServiceAndRouteAsync("deny", _upstream.Port);
        await Created("/plugins", $$$"""{"name":"require-header","route":{"id":"{{{denyRouteId}}}"},"config":{"header":"x-api-key"}}""");
        await Created("/upstreams", """{"name":"balanced-up"}""");
        await Created("/upstreams/balanced-up/targets", $$"""{"target":"127.0.0.1:{{_upstream.Port}}"}""");
        await Created("/services", """{"name":"balanced","host":"balanced-up","protocol":"http"}""");
        await Created("/services/balanced/routes", """{"paths":["/balanced"]}""");
        var (_, bodyRouteId) = await _gw.ServiceAndRouteAsync("body", _upstream.Port);
        await Created("/plugins", $$$"""{"name":"body-rewrite","route":{"id":"{{{bodyRouteId}}}"},"config":{"append":"REWRITTEN"}}""");
    }

    public async Task DisposeAsync()
    {
        _remote.Dispose();
        await _gw.DisposeAsync();
        await _upstream.DisposeAsync();
        Directory.Delete(_filters, true);
    }

    private async Task<string> Created(string path, string json)
    {
        var (status, body) = await _gw.PostAsync(path, json);
        Assert.True(status == 201, body?.ToJsonString());
        return body!["id"]!.GetValue<string>();
    }

    private static string WithExamples(string dir, params string[] names)
    {
        foreach (var name in names)
            foreach (var ext in new[] { ".wasm", ".meta.json" })
                File.Copy(Path.Combine(WasmPaths.Examples, name + ext), Path.Combine(dir, name + ext));
        return dir;
    }

    /// <summary>An IPv4 address of this machine that is not loopback: a connection to it comes from it.</summary>
    private static IPAddress NonLoopbackAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
        ?? throw new InvalidOperationException("this test needs a non-loopback IPv4 address on the machine");

    private static HttpRequestMessage Debug(string path, string? token = null, bool log = false, string header = RequestDebug.DebugHeader)
    {
        var request = ProxyRequests.Get(path);
        request.Headers.Add(header, "*");
        if (token is not null) request.Headers.Add(RequestDebug.TokenHeader, token);
        if (log) request.Headers.Add(RequestDebug.LogHeader, "true");
        return request;
    }

    private static JsonNode? Output(HttpResponseMessage response) =>
        response.Headers.TryGetValues(RequestDebug.OutputHeader, out var values) ? JsonNode.Parse(values.Single()) : null;

    private static double Time(JsonNode? span) => span!["total_time"]!.GetValue<double>();

    private static double ChildrenTime(JsonNode span) =>
        span["child"] is JsonObject children ? children.Sum(c => Time(c.Value)) : 0;

    /// <summary>Every span lasts at least as long as its children together (they run inside it), within the output's
    /// rounding: each time is rounded to 0.01 ms on its own, so n children may sum up to (n + 1) × 0.005 ms above it.</summary>
    private static void AssertNested(JsonNode span, string path)
    {
        if (span["child"] is not JsonObject children) return;
        foreach (var (name, child) in children)
        {
            if (name == "upstream") continue;
            var rounding = child!["child"] is JsonObject grandchildren ? (grandchildren.Count + 1) * 0.005 + 1e-9 : 0;
            Assert.True(Time(child) >= ChildrenTime(child!) - rounding, $"{path}.{name}: {child!.ToJsonString()}");
            AssertNested(child!, $"{path}.{name}");
        }
    }

    [Fact]
    public async Task Loopback_request_gets_the_timings_of_phases_plugins_filters_and_upstream()
    {
        using var response = await _gw.Proxy.SendAsync(Debug("/svc"));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("yes", response.Single("X-Filtered"));
        var output = Output(response);
        Assert.NotNull(output);
        Assert.False(string.IsNullOrEmpty(output["request_id"]!.GetValue<string>()));
        Assert.Null(output["dangling"]);
        var child = output["child"]!;
        Assert.NotNull(child["rewrite"]);
        var access = child["access"]!;
        Assert.NotNull(access["child"]!["router"]);
        // Kong's plugins.<name>.<instance id>
        Assert.NotNull(access["child"]!["plugins"]!["child"]!["correlation-id"]!["child"]![_correlationId]);
        Assert.NotNull(access["child"]!["filters"]!["child"]!["response_transformer"]!["child"]!["on_request_headers"]);
        var headerFilter = child["header_filter"]!;
        Assert.NotNull(headerFilter["child"]!["plugins"]!["child"]!["correlation-id"]!["child"]![_correlationId]);
        Assert.NotNull(headerFilter["child"]!["filters"]!["child"]!["response_transformer"]!["child"]!["on_response_headers"]);
        var upstream = child["upstream"]!;
        Assert.Equal(Time(upstream), Time(upstream["child"]!["time_to_first_byte"]));
        Assert.Null(upstream["child"]!["streaming"]); // the header is sent before the body: no streaming time yet
        Assert.Null(child["log"]); // nor the log phase
        AssertNested(output, "$");
        var withoutUpstream = output["total_time_without_upstream"]!.GetValue<double>();
        Assert.True(withoutUpstream >= Time(access) + Time(child["rewrite"]), output.ToJsonString());
        // none of the debug headers reaches the upstream
        var echo = await response.EchoAsync();
        Assert.Null(echo.Header(RequestDebug.DebugHeader));
        Assert.Null(echo.Header(RequestDebug.TokenHeader));
    }

    [Fact]
    public async Task Gatehouse_header_name_works_like_kongs_and_other_values_or_no_header_do_nothing()
    {
        using (var response = await _gw.Proxy.SendAsync(Debug("/svc", header: RequestDebug.GatehouseDebugHeader)))
        {
            Assert.NotNull(Output(response)?["child"]?["access"]);
            Assert.Null((await response.EchoAsync()).Header(RequestDebug.GatehouseDebugHeader));
        }
        using (var response = await _gw.Proxy.SendAsync(ProxyRequests.Get("/svc")))
            Assert.Null(Output(response));
        var request = ProxyRequests.Get("/svc");
        request.Headers.Add(RequestDebug.DebugHeader, "rewrite");
        using (var response = await _gw.Proxy.SendAsync(request))
        {
            Assert.Null(Output(response));
            Assert.Null((await response.EchoAsync()).Header(RequestDebug.DebugHeader));
        }
    }

    [Fact]
    public async Task Non_loopback_client_needs_the_token_written_to_the_prefix()
    {
        var token = await File.ReadAllTextAsync(Path.Combine(_gw.Prefix, RequestDebug.TokenFileName));
        Assert.True(Guid.TryParse(token, out _), token); // generated at start: none configured
        using (var response = await _remote.SendAsync(Debug("/svc")))
        {
            Assert.Equal(200, (int)response.StatusCode); // no token: an ordinary request, as Kong
            Assert.Null(Output(response));
            var echo = await response.EchoAsync();
            Assert.Null(echo.Header(RequestDebug.DebugHeader));
        }
        using (var response = await _remote.SendAsync(Debug("/svc", token: "invalid-token")))
        {
            Assert.Equal(200, (int)response.StatusCode);
            Assert.Null(Output(response));
            Assert.Null((await response.EchoAsync()).Header(RequestDebug.TokenHeader));
        }
        using (var response = await _remote.SendAsync(Debug("/svc", token: token)))
        {
            Assert.NotNull(Output(response)?["child"]?["access"]);
            Assert.Null((await response.EchoAsync()).Header(RequestDebug.TokenHeader));
        }
    }

    [Fact]
    public async Task Short_circuited_requests_still_get_the_output()
    {
        // key-auth answers 401 in access: its span is there, the header phase ran, no upstream
        using (var response = await _gw.Proxy.SendAsync(Debug("/auth")))
        {
            Assert.Equal(401, (int)response.StatusCode);
            var child = Output(response)!["child"]!;
            Assert.NotNull(child["access"]!["child"]!["plugins"]!["child"]!["key-auth"]!["child"]![_keyAuthId]);
            Assert.NotNull(child["header_filter"]);
            Assert.Null(child["upstream"]);
        }
        // a Proxy-Wasm filter's local response in on_request_headers
        using (var response = await _gw.Proxy.SendAsync(Debug("/deny")))
        {
            Assert.Equal(401, (int)response.StatusCode);
            var child = Output(response)!["child"]!;
            Assert.NotNull(child["access"]!["child"]!["filters"]!["child"]!["require-header"]!["child"]!["on_request_headers"]);
            Assert.NotNull(child["header_filter"]);
            Assert.Null(child["upstream"]);
        }
        // no route: the router's 404
        using (var response = await _gw.Proxy.SendAsync(Debug("/nowhere")))
        {
            Assert.Equal(404, (int)response.StatusCode);
            var child = Output(response)!["child"]!;
            Assert.NotNull(child["access"]!["child"]!["router"]);
            Assert.Null(child["access"]!["child"]!["plugins"]);
        }
    }

    [Fact]
    public async Task Log_header_writes_the_whole_output_to_the_log_after_the_log_phase()
    {
        using var response = await _gw.Proxy.SendAsync(Debug("/svc", log: true));
        await response.Content.ReadAsByteArrayAsync();
        var requestId = Output(response)!["request_id"]!.GetValue<string>();
        Assert.Null((await response.EchoAsync()).Header(RequestDebug.LogHeader));
        // the log phase ends after the client has the response: wait for the line (no timing assumption)
        var line = await WaitForLogAsync(requestId);
        Assert.StartsWith("[request-debug] output: ", line);
        var logged = JsonNode.Parse(line["[request-debug] output: ".Length..])!;
        Assert.Equal(requestId, logged["request_id"]!.GetValue<string>());
        var child = logged["child"]!;
        Assert.NotNull(child["log"]!["child"]!["filters"]!["child"]!["response_transformer"]!["child"]!["on_log"]);
        var upstream = child["upstream"]!["child"]!;
        Assert.Equal(Time(child["upstream"]), Time(upstream["time_to_first_byte"]) + Time(upstream["streaming"]));
        AssertNested(logged, "$");
        // without the log header nothing is logged
        _log.Clear();
        using var quiet = await _gw.Proxy.SendAsync(Debug("/svc"));
        await quiet.Content.ReadAsByteArrayAsync();
        using var marker = await _gw.Proxy.SendAsync(Debug("/svc", log: true));
        var markerId = Output(marker)!["request_id"]!.GetValue<string>();
        await WaitForLogAsync(markerId);
        Assert.Single(_log.Entries, e => e.Message.StartsWith("[request-debug] output:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Response_body_filters_are_timed_in_body_filter()
    {
        using var response = await _gw.Proxy.SendAsync(Debug("/body", log: true));
        Assert.EndsWith("REWRITTEN", await response.Content.ReadAsStringAsync()); // the filter ran on the body
        Assert.Null(Output(response)!["child"]!["body_filter"]); // the header leaves before the body
        var line = await WaitForLogAsync(Output(response)!["request_id"]!.GetValue<string>());
        var logged = JsonNode.Parse(line["[request-debug] output: ".Length..])!;
        Assert.NotNull(logged["child"]!["body_filter"]!["child"]!["filters"]!["child"]!["body-rewrite"]!["child"]!["on_response_body"]);
        AssertNested(logged, "$");
    }

    [Fact]
    public async Task A_service_over_an_upstream_has_the_balancer_span()
    {
        using var response = await _gw.Proxy.SendAsync(Debug("/balanced"));
        Assert.Equal(200, (int)response.StatusCode);
        var child = Output(response)!["child"]!;
        Assert.NotNull(child["balancer"]!["total_time"]);
        Assert.NotNull(child["upstream"]);
        using var direct = await _gw.Proxy.SendAsync(Debug("/svc"));
        Assert.Null(Output(direct)!["child"]!["balancer"]); // a service on a host: no peer selection
    }

    private async Task<string> WaitForLogAsync(string requestId)
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var entry = _log.Entries.FirstOrDefault(e => e.Message.StartsWith("[request-debug] output:", StringComparison.Ordinal)
                && e.Message.Contains(requestId, StringComparison.Ordinal));
            if (entry is not null) return entry.Message;
            await Task.Delay(20, cancel.Token);
        }
    }
}

/// <summary>request_debug and request_debug_token read from gatehouse.conf by a real gateway process.</summary>
public sealed class RequestDebugConfTests : IAsyncLifetime
{
    private EchoUpstream _upstream = null!;
    private readonly string _dir = Directory.CreateTempSubdirectory("gatehouse-reqdebug-").FullName;

    public async Task InitializeAsync() => _upstream = await EchoUpstream.StartAsync();

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private async Task<string> ConfAsync(string lines)
    {
        var yml = Path.Combine(_dir, "kong.yml");
        await File.WriteAllTextAsync(yml, $$"""
            _format_version: "3.0"
            services:
            - name: svc
              url: http://127.0.0.1:{{_upstream.Port}}
              routes:
              - name: r
                paths: ["/svc"]
            """);
        return $"database = off\ndeclarative_config = {yml}\n{lines}";
    }

    private static async Task<HttpResponseMessage> DebugAsync(GatewayProcess gw)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = gw.ProxyUri };
        var request = ProxyRequests.Get("/svc");
        request.Headers.Add(RequestDebug.DebugHeader, "*");
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task Request_debug_token_from_the_conf_is_written_to_the_prefix()
    {
        await using var gw = await GatewayProcess.StartInAsync(_dir, await ConfAsync("request_debug_token = 01dd4c9e-cb5e-4b26-9e49-4eb0509fbd68"));
        Assert.Equal("01dd4c9e-cb5e-4b26-9e49-4eb0509fbd68", await File.ReadAllTextAsync(Path.Combine(_dir, RequestDebug.TokenFileName)));
        using var response = await DebugAsync(gw);
        Assert.True(response.Headers.Contains(RequestDebug.OutputHeader)); // on by default (Kong's request_debug = on)
    }

    [Fact]
    public async Task Request_debug_off_gives_no_output_and_no_token_file()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, RequestDebug.TokenFileName), "stale");
        await using var gw = await GatewayProcess.StartInAsync(_dir, await ConfAsync("request_debug = off"));
        Assert.False(File.Exists(Path.Combine(_dir, RequestDebug.TokenFileName)));
        using var response = await DebugAsync(gw);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.False(response.Headers.Contains(RequestDebug.OutputHeader));
    }
}

/// <summary>The size limits of the output (Kong's): a header of 2 KB or more to a non-loopback client is truncated and
/// the output goes to the log instead, in 3 KB parts when longer.</summary>
public sealed class RequestDebugOutputTests
{
    private static (RequestDebug Debug, LogCapture Log) Create()
    {
        var log = new LogCapture();
        var factory = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddProvider(log));
        return (new RequestDebug(new GatehouseOptions(), factory.CreateLogger<RequestDebug>()), log);
    }

    private static (ProxyContext Context, RequestDebugTrace Trace) LargeTrace(IPAddress client)
    {
        var http = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        http.Connection.RemoteIpAddress = client;
        http.Request.Headers[RequestDebug.DebugHeader] = "*";
        http.Request.Headers[RequestDebug.TokenHeader] = "wrong";
        var context = new ProxyContext(http, TimeProvider.System);
        var (debug, _) = Create();
        var trace = debug.Begin(http)!;
        // enough spans for an output over 3 KB
        trace.Enter("access");
        for (var i = 0; i < 120; i++) { trace.Enter("span-" + i); trace.Leave(); }
        trace.Leave();
        return (context, trace);
    }

    [Fact]
    public void Large_output_to_a_loopback_client_is_whole()
    {
        var (context, trace) = LargeTrace(IPAddress.Loopback);
        RequestDebug.AddOutputHeader(trace, context);
        var output = JsonNode.Parse(context.HttpContext.Response.Headers[RequestDebug.OutputHeader].ToString())!;
        Assert.Equal(120, output["child"]!["access"]!["child"]!.AsObject().Count);
        Assert.False(trace.Log);
    }

    [Fact]
    public void Large_output_to_another_client_is_truncated_and_logged_in_parts()
    {
        var (debug, log) = Create();
        var http = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        http.Connection.RemoteIpAddress = IPAddress.Parse("192.0.2.7");
        http.Request.Headers[RequestDebug.DebugHeader] = "*";
        http.Request.Headers[RequestDebug.TokenHeader] = debug.Token;
        var context = new ProxyContext(http, TimeProvider.System);
        var trace = debug.Begin(http)!;
        Assert.Empty(http.Request.Headers); // removed: never forwarded
        trace.Enter("access");
        for (var i = 0; i < 120; i++) { trace.Enter("span-" + i); trace.Leave(); }
        trace.Leave();
        RequestDebug.AddOutputHeader(trace, context);
        var header = JsonNode.Parse(context.HttpContext.Response.Headers[RequestDebug.OutputHeader].ToString())!;
        Assert.True(header["truncated"]!.GetValue<bool>());
        Assert.Equal(trace.RequestId, header["request_id"]!.GetValue<string>());
        Assert.True(trace.Log);
        debug.WriteLog(trace, context);
        var parts = log.Entries.Select(e => e.Message).Where(m => m.StartsWith("[request-debug] parts: ", StringComparison.Ordinal)).ToList();
        Assert.True(parts.Count >= 2, string.Join("\n", parts));
        var json = string.Concat(parts.Select((p, i) =>
        {
            var prefix = $"[request-debug] parts: {i + 1}/{parts.Count} output: ";
            Assert.StartsWith(prefix, p);
            return p[prefix.Length..];
        }));
        Assert.Equal(120, JsonNode.Parse(json)!["child"]!["access"]!["child"]!.AsObject().Count);
    }

    [Fact]
    public void Wrong_token_from_another_client_gives_no_trace_but_the_headers_are_removed()
    {
        var (debug, _) = Create();
        var http = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        http.Connection.RemoteIpAddress = IPAddress.Parse("192.0.2.7");
        http.Request.Headers[RequestDebug.DebugHeader] = "*";
        http.Request.Headers[RequestDebug.TokenHeader] = "wrong";
        http.Request.Headers[RequestDebug.LogHeader] = "true";
        Assert.Null(debug.Begin(http));
        Assert.Empty(http.Request.Headers);
        // an IPv4-mapped loopback peer (dual-stack listener) is loopback
        http.Connection.RemoteIpAddress = IPAddress.Loopback.MapToIPv6();
        http.Request.Headers[RequestDebug.DebugHeader] = "*";
        Assert.NotNull(debug.Begin(http));
    }
}
