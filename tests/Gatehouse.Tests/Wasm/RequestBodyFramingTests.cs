using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Model;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Plugins;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static Gatehouse.Tests.Infrastructure.TestConfig;

namespace Gatehouse.Tests.Wasm;

/// <summary>
/// How a request body that passed on_request_body is framed to the upstream with route.request_buffering off, seen on
/// raw sockets at both ends: a body a filter holds to its end goes with its exact Content-Length (ngx_wasm_module's
/// framing), also when the client sent it chunked; a filter that returns Continue still sees every chunk and the end
/// of stream, and the body keeps streaming (the upstream has the request before the client finished it).
/// </summary>
public sealed class RequestBodyFramingTests : IAsyncLifetime
{
    // a guard against a hang when the behaviour is wrong, not a timing assertion: every wait below ends on an event
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(90);
    private readonly string _filters = WasmPaths.CopyFilters(Path.Combine(WasmPaths.Repo, "filters", "test"), "bench-body", "phases");
    private readonly FilterLogCapture _logs = new();
    private GatewayFixture _gateway = null!;
    private ScriptedUpstream _upstream = null!;

    public async Task InitializeAsync()
    {
        _upstream = new ScriptedUpstream();
        _gateway = await GatewayFixture.StartAsync(configure: o => o with { Wasm = true, WasmFiltersPath = _filters, LogLevel = "info" },
            services: s => s.AddSingleton<ILoggerProvider>(_logs));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _upstream.Dispose();
        Directory.Delete(_filters, true);
    }

    private void Publish(string filter, string config)
    {
        var service = Service("127.0.0.1", _upstream.Port);
        var route = Route(service, "r", paths: ["/"]) with { StripPath = false, RequestBuffering = false };
        _gateway.Publish(Of([service], [route]) with
        {
            FilterChains = [new FilterChainModel { Id = Guid.NewGuid(), RouteId = route.Id, Filters = [new(filter, true, config)] }],
        });
    }

    private async Task<Socket> ConnectAsync()
    {
        var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, _gateway.ProxyUri.Port);
        return client;
    }

    [Fact]
    public async Task A_body_the_filter_buffers_reaches_the_upstream_with_content_length_not_chunked()
    {
        Publish("bench-body", ""); // pauses until end of stream, then upper-cases the body
        var received = _upstream.Answer(ScriptedUpstream.Ok);
        using var client = await ConnectAsync();
        await client.SendAsync(Encoding.ASCII.GetBytes(
            "POST /up HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
        await Task.Delay(50); // two reads for the gateway, most of the time; the framing must not depend on it
        await client.SendAsync("6\r\n world\r\n0\r\n\r\n"u8.ToArray());
        var request = await received.WaitAsync(Hang);
        Assert.Contains("\r\nContent-Length: 11\r\n", request.Head, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Transfer-Encoding", request.Head, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("HELLO WORLD", Encoding.ASCII.GetString(request.Body));
        Assert.StartsWith("HTTP/1.1 200", await ReadHeadAsync(client));
    }

    [Fact]
    public async Task A_body_that_arrives_whole_keeps_its_content_length_through_a_continue_filter()
    {
        Publish("phases", """{"request_body": {"action": "get_body"}}""");
        var received = _upstream.Answer(ScriptedUpstream.Ok);
        using var client = await ConnectAsync();
        await client.SendAsync("POST /up HTTP/1.1\r\nHost: a.test\r\nContent-Length: 11\r\n\r\nhello world"u8.ToArray());
        var request = await received.WaitAsync(Hang);
        Assert.Contains("\r\nContent-Length: 11\r\n", request.Head, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Transfer-Encoding", request.Head, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("hello world", Encoding.ASCII.GetString(request.Body));
        await _logs.WaitForAsync(m => m == "body:hello world");
    }

    [Fact]
    public async Task A_continue_filter_sees_every_chunk_and_the_end_of_stream_while_the_body_streams()
    {
        Publish("phases", """{"request_body": [{"action": "get_body"}, {"action": "log", "message": "eos", "when_eos": true}]}""");
        var head = _upstream.OnHead();
        var received = _upstream.Answer(ScriptedUpstream.Ok);
        using var client = await ConnectAsync();
        await client.SendAsync(Encoding.ASCII.GetBytes("POST /up HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
        // the client has not finished its body: the upstream must already have the request (held, this hangs)
        var upstreamHead = await head.WaitAsync(Hang);
        Assert.Contains("Transfer-Encoding: chunked", upstreamHead, StringComparison.OrdinalIgnoreCase);
        await _logs.WaitForAsync(m => m == "body:hello");
        Assert.DoesNotContain("eos", _logs.Messages);
        await client.SendAsync("6\r\n world\r\n0\r\n\r\n"u8.ToArray());
        Assert.Equal("hello world", Encoding.ASCII.GetString((await received.WaitAsync(Hang)).Body));
        Assert.StartsWith("HTTP/1.1 200", await ReadHeadAsync(client));
        await _logs.WaitForAsync(m => m == "body: world");
        await _logs.WaitForAsync("eos", 1);
        Assert.Equal(1, _logs.Count("eos"));
    }

    private static async Task<string> ReadHeadAsync(Socket client)
    {
        var data = new List<byte>();
        var buffer = new byte[1];
        while (data.Count < 4 || !(data[^4] == '\r' && data[^3] == '\n' && data[^2] == '\r' && data[^1] == '\n'))
        {
            var n = await client.ReceiveAsync(buffer).WaitAsync(Hang);
            Assert.NotEqual(0, n);
            data.Add(buffer[0]);
        }
        return Encoding.ASCII.GetString(data.ToArray());
    }
}
