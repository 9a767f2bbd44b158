using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Infrastructure.TestConfig;

namespace Gatehouse.Tests.Proxy;

/// <summary>service.write_timeout: an upstream that stops reading the request body makes the proxy's write stall;
/// after write_timeout the client gets Kong's 504 (and not after read_timeout, which is set far higher).</summary>
public sealed class WriteTimeoutTests : IAsyncLifetime
{
    private GatewayFixture _gateway = null!;
    private readonly TcpListener _deafUpstream = new(IPAddress.Loopback, 0);
    private readonly List<Socket> _accepted = [];

    public async Task InitializeAsync()
    {
        _deafUpstream.Start();
        _ = AcceptForeverAsync();
        _gateway = await GatewayFixture.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _deafUpstream.Stop();
        lock (_accepted) foreach (var s in _accepted) s.Dispose();
    }

    // accepts connections and never reads from them, so the kernel buffers fill and upstream writes block
    private async Task AcceptForeverAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _deafUpstream.AcceptSocketAsync();
                socket.ReceiveBufferSize = 4096;
                lock (_accepted) _accepted.Add(socket);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    [Fact]
    public async Task StalledUpstreamWriteAnswers504AfterWriteTimeout()
    {
        var port = ((IPEndPoint)_deafUpstream.LocalEndpoint).Port;
        var service = Service("127.0.0.1", port) with { WriteTimeout = 300, ReadTimeout = 60_000, Retries = 0 };
        _gateway.Publish(Of([service], [Route(service, "r", paths: ["/"])]));

        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(_gateway.ProxyUri.Host, _gateway.ProxyUri.Port);
        const int bodySize = 64 << 20;
        var head = $"POST /upload HTTP/1.1\r\nHost: example.test\r\nContent-Length: {bodySize}\r\n\r\n";
        await client.SendAsync(Encoding.ASCII.GetBytes(head));
        using var stopSending = new CancellationTokenSource();
        var sender = Task.Run(async () =>
        {
            var chunk = new byte[64 << 10];
            try
            {
                for (var sent = 0; sent < bodySize; sent += chunk.Length)
                    await client.SendAsync(chunk, SocketFlags.None, stopSending.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException) { }
        });

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var response = await ReadResponseHeadAndBodyAsync(client, TimeSpan.FromSeconds(30));
        stopSending.Cancel();
        Assert.StartsWith("HTTP/1.1 504", response);
        Assert.Contains("{\"message\":\"The upstream server is timing out\"}", response);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "answered only after read_timeout-like delays");
        await Task.WhenAny(sender, Task.Delay(5000));
    }

    private static async Task<string> ReadResponseHeadAndBodyAsync(Socket socket, TimeSpan limit)
    {
        using var cts = new CancellationTokenSource(limit);
        var buffer = new byte[8192];
        var text = new StringBuilder();
        while (!text.ToString().Contains("timing out"))
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            if (n == 0) break;
            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
        return text.ToString();
    }
}
