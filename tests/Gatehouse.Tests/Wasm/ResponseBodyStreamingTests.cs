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
/// on_response_body with a filter that returns Continue (as every Rust/AssemblyScript SDK filter exports it): the
/// response keeps streaming (the client has the first chunk before the upstream sent the rest), and the filter sees
/// every chunk and exactly one end of stream. Raw sockets at both ends.
/// </summary>
public sealed class ResponseBodyStreamingTests : IAsyncLifetime
{
    // a guard against a hang when the behaviour is wrong, not a timing assertion: every wait below ends on an event
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(90);
    private readonly string _filters = WasmPaths.CopyFilters(Path.Combine(WasmPaths.Repo, "filters", "test"), "phases");
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

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_continue_filter_sees_every_response_chunk_and_one_end_of_stream_while_the_body_streams(bool responseBuffering)
    {
        var service = Service("127.0.0.1", _upstream.Port);
        var route = Route(service, "r", paths: ["/"]) with { StripPath = false, ResponseBuffering = responseBuffering };
        const string config = """{"response_body": [{"action": "get_body"}, {"action": "log", "message": "eos", "when_eos": true}]}""";
        _gateway.Publish(Of([service], [route]) with
        {
            FilterChains = [new FilterChainModel { Id = Guid.NewGuid(), RouteId = route.Id, Filters = [new("phases", true, config)] }],
        });
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = _upstream.Answer(async socket =>
        {
            await socket.SendAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n"u8.ToArray());
            await release.Task;
            await socket.SendAsync("4\r\nlast\r\n0\r\n\r\n"u8.ToArray());
        });
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, _gateway.ProxyUri.Port);
        await client.SendAsync("GET /stream HTTP/1.1\r\nHost: a.test\r\n\r\n"u8.ToArray());
        var seen = new StringBuilder();
        await ReceiveUntilAsync(client, seen, "first");
        Assert.DoesNotContain("last", seen.ToString(), StringComparison.Ordinal);
        await _logs.WaitForAsync(m => m == "body:first");
        Assert.DoesNotContain("eos", _logs.Messages);
        release.SetResult();
        await ReceiveUntilAsync(client, seen, "last\r\n0\r\n\r\n"); // the last chunk, then the terminating one
        await _logs.WaitForAsync(m => m == "body:last");
        await _logs.WaitForAsync("eos", 1);
        Assert.Equal(1, _logs.Count("eos"));
    }

    private static async Task ReceiveUntilAsync(Socket client, StringBuilder seen, string marker)
    {
        var buffer = new byte[4096];
        while (!seen.ToString().Contains(marker, StringComparison.Ordinal))
        {
            var n = await client.ReceiveAsync(buffer).WaitAsync(Hang);
            Assert.NotEqual(0, n);
            seen.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
    }
}
