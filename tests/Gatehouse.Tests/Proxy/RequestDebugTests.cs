using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Proxy;
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
    private readonly string _filters = WasmPaths.MixedFilters();
    private readonly LogCapture _log = new();
    private EchoUpstream _upstream = null!;
    private WasmGateway _gw = null!;
    private HttpClient _remote = null!;

    public async Task InitializeAsync()
    {
        _upstream = await EchoUpstream.StartAsync();
        var address = NonLoopbackAddress();
        _gw = await WasmGateway.StartAsync(dbless: false, filtersPath: _filters,
            configure: o => o with { LogLevel = "notice", ProxyListen = [.. o.ProxyListen, ListenAddress.Parse($"{address}:0")] },
            logging: _log.Install);
        _remote = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = _gw.Host.Addresses(ListenerKind.Proxy)[1] };
        var (_, routeId) = await _gw.ServiceAndRouteAsync("svc", _upstream.Port);
        await Created("/plugins", $$$"""{"name":"correlation-id","route":{"id":"{{{routeId}}}"}}""");
        await Created("/plugins", $$$"""{"name":"response_transformer","route":{"id":"{{{routeId}}}"},"config":"{\"append\":{\"headers\":[\"X-Filtered:yes\"]}}"}""");
        var (_, authRouteId) = await _gw.ServiceAndRouteAsync("auth", _upstream.Port);
        await Created("/plugins", $$$"""{"name":"key-auth","route":{"id":"{{{authRouteId}}}"}}""");
    }

    public async Task DisposeAsync()
    {
        _remote.Dispose();
        await _gw.DisposeAsync();
        await _upstream.DisposeAsync();
        Directory.Delete(_filters, true);
    }

    private async Task Created(string path, string json)
    {
        var (status, body) = await _gw.PostAsync(path, json);
        Assert.True(status == 201, body?.ToJsonString());
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

    /// <summary>Every span lasts at least as long as its children together (they run inside it).</summary>
    private static void AssertNested(JsonNode span, string path)
    {
        if (span["child"] is not JsonObject children) return;
        foreach (var (name, child) in children)
        {
            if (name == "upstream") continue;
            Assert.True(Time(child) >= ChildrenTime(child!), $"{path}.{name}: {child!.ToJsonString()}");
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
        Assert.NotNull(access["child"]!["plugins"]!["child"]!["correlation-id"]);
        Assert.NotNull(access["child"]!["filters"]!["child"]!["response_transformer"]!["child"]!["on_request_headers"]);
        var headerFilter = child["header_filter"]!;
        Assert.NotNull(headerFilter["child"]!["plugins"]!["child"]!["correlation-id"]);
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
            Assert.NotNull(child["access"]!["child"]!["plugins"]!["child"]!["key-auth"]);
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
