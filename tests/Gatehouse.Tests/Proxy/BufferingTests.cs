using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Infrastructure.TestConfig;

namespace Gatehouse.Tests.Proxy;

/// <summary>route.request_buffering and route.response_buffering, seen on raw sockets at both ends: what the upstream
/// receives and when, and whether a client that does not read holds the upstream.</summary>
public sealed class BufferingTests : IAsyncLifetime
{
    // a guard against a hang when the behaviour is wrong, not a timing assertion: every wait below ends on an event
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(90);
    private GatewayFixture _gateway = null!;
    private ScriptedUpstream _upstream = null!;

    public async Task InitializeAsync()
    {
        _upstream = new ScriptedUpstream();
        _gateway = await GatewayFixture.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _upstream.Dispose();
    }

    private void Publish(bool requestBuffering = true, bool responseBuffering = true)
    {
        var service = Service("127.0.0.1", _upstream.Port);
        _gateway.Publish(Of([service], [Route(service, "r", paths: ["/"]) with
        {
            StripPath = false, RequestBuffering = requestBuffering, ResponseBuffering = responseBuffering,
        }]));
    }

    private async Task<Socket> ConnectAsync()
    {
        var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, _gateway.ProxyUri.Port);
        return client;
    }

    [Fact]
    public async Task Request_buffering_sends_a_chunked_body_whole_with_content_length()
    {
        Publish(requestBuffering: true);
        var received = _upstream.Answer(ScriptedUpstream.Ok);
        using var client = await ConnectAsync();
        await client.SendAsync(Encoding.ASCII.GetBytes(
            "POST /up HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
        var request = await received.WaitAsync(Hang);
        Assert.Contains("\r\nContent-Length: 11\r\n", request.Head, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Transfer-Encoding", request.Head, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("hello world", Encoding.ASCII.GetString(request.Body));
        Assert.StartsWith("HTTP/1.1 200", await ReadHeadAsync(client));
    }

    /// <summary>A small held body goes out through <c>HeldBodyHandler</c> (with its head in one write: the one write is
    /// proved by <c>SpillBufferTests.Held_body_content_writes_the_body_once…</c>; on loopback the upstream's first read
    /// holds both either way), framed as before: Content-Length, the client's Content-Type, no Transfer-Encoding.</summary>
    [Fact]
    public async Task Request_buffering_sends_a_small_held_body_with_its_head_and_content_length()
    {
        using var upstream = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        upstream.Start();
        var service = Service("127.0.0.1", ((IPEndPoint)upstream.LocalEndpoint).Port);
        _gateway.Publish(Of([service], [Route(service, "r", paths: ["/"]) with { StripPath = false }]));
        using var client = await ConnectAsync();
        var body = new string('a', 1_024);
        await client.SendAsync(Encoding.ASCII.GetBytes(
            $"POST /up HTTP/1.1\r\nHost: a.test\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\n\r\n{body}"));
        using var peer = await upstream.AcceptSocketAsync().WaitAsync(Hang);
        var first = new byte[64 * 1024];
        var n = await peer.ReceiveAsync(first).WaitAsync(Hang); // the first read: everything the first segment held
        var request = Encoding.ASCII.GetString(first, 0, n);
        Assert.Contains("\r\nContent-Length: 1024\r\n", request, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\r\nContent-Type: text/plain\r\n", request, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Transfer-Encoding", request, StringComparison.OrdinalIgnoreCase);
        Assert.EndsWith("\r\n\r\n" + body, request);
        await peer.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
        Assert.StartsWith("HTTP/1.1 200", await ReadHeadAsync(client));
    }

    /// <summary>A Content-Length body that came whole with its head is taken from the server's buffer at once
    /// (<c>RequestBuffering.TakeReceived</c>): exactly its length, so the next request pipelined behind it in the same
    /// packet is left in place and forwarded on its own, each with its own body and Content-Length.</summary>
    [Fact]
    public async Task Request_buffering_takes_a_body_received_whole_and_leaves_the_pipelined_request_behind_it()
    {
        Publish(requestBuffering: true);
        var first = _upstream.Answer(ScriptedUpstream.Ok);
        var second = _upstream.Answer(ScriptedUpstream.Ok);
        using var client = await ConnectAsync();
        var body = Pattern(1_024);
        var packet = new MemoryStream();
        packet.Write(Encoding.ASCII.GetBytes($"POST /one HTTP/1.1\r\nHost: a.test\r\nContent-Length: {body.Length}\r\n\r\n"));
        packet.Write(body);
        packet.Write(Encoding.ASCII.GetBytes("POST /two HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\n\r\nhello"));
        await client.SendAsync(packet.ToArray());
        var one = await first.WaitAsync(Hang);
        Assert.StartsWith("POST /one ", one.Head);
        Assert.Contains($"\r\nContent-Length: {body.Length}\r\n", one.Head, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(body, one.Body);
        Assert.StartsWith("HTTP/1.1 200", await ReadHeadAsync(client));
        var two = await second.WaitAsync(Hang);
        Assert.StartsWith("POST /two ", two.Head);
        Assert.Contains("\r\nContent-Length: 5\r\n", two.Head, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("hello", Encoding.ASCII.GetString(two.Body));
        Assert.StartsWith("HTTP/1.1 200", await ReadHeadAsync(client));
    }

    /// <summary>A Content-Length body not all there when the request is handled (its head first, the body later in
    /// parts), and one above the in-memory bound, are read to their end as before: the upstream gets every byte with
    /// the client's Content-Length.</summary>
    [Theory]
    [InlineData(1_024, true)]
    [InlineData(200_000, false)]
    public async Task Request_buffering_reads_a_content_length_body_that_is_not_there_whole(int length, bool headFirst)
    {
        Publish(requestBuffering: true);
        var received = _upstream.Answer(ScriptedUpstream.Ok);
        using var client = await ConnectAsync();
        var body = Pattern(length);
        await client.SendAsync(Encoding.ASCII.GetBytes($"POST /up HTTP/1.1\r\nHost: a.test\r\nContent-Length: {length}\r\n\r\n"));
        if (headFirst) await Task.Delay(200); // the request is handled with none or part of its body received
        await client.SendAsync(body.AsMemory(0, length / 3));
        if (headFirst) await Task.Delay(100);
        await client.SendAsync(body.AsMemory(length / 3));
        var request = await received.WaitAsync(Hang);
        Assert.Contains($"\r\nContent-Length: {length}\r\n", request.Head, StringComparison.OrdinalIgnoreCase);
        Assert.True(body.AsSpan().SequenceEqual(request.Body));
        Assert.StartsWith("HTTP/1.1 200", await ReadHeadAsync(client));
    }

    /// <summary>A client that sends part of its Content-Length body and leaves: nothing reaches the upstream.</summary>
    [Fact]
    public async Task Request_buffering_sends_nothing_upstream_for_a_body_the_client_abandoned()
    {
        Publish(requestBuffering: true);
        using (var client = await ConnectAsync())
        {
            await client.SendAsync(Encoding.ASCII.GetBytes("POST /up HTTP/1.1\r\nHost: a.test\r\nContent-Length: 1024\r\n\r\nonly this"));
            await Task.Delay(200);
            client.Shutdown(SocketShutdown.Both);
        }
        // a complete request on another connection afterwards: it is the first the upstream sees
        var next = _upstream.Answer(ScriptedUpstream.Ok);
        using var other = await ConnectAsync();
        await other.SendAsync(Encoding.ASCII.GetBytes("POST /next HTTP/1.1\r\nHost: a.test\r\nContent-Length: 2\r\n\r\nok"));
        Assert.StartsWith("POST /next ", (await next.WaitAsync(Hang)).Head);
        Assert.Equal(1, _upstream.Requests);
    }

    /// <summary>A held body of a request that asked <c>Expect: 100-continue</c> keeps YARP's content (its end is
    /// awaited by YARP): framed the same, Content-Length of the held body.</summary>
    [Fact]
    public async Task Request_buffering_sends_the_body_of_an_expect_continue_request_with_content_length()
    {
        Publish(requestBuffering: true);
        var received = _upstream.Answer(ScriptedUpstream.Ok);
        using var client = await ConnectAsync();
        await client.SendAsync(Encoding.ASCII.GetBytes(
            "POST /up HTTP/1.1\r\nHost: a.test\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 100", await ReadHeadAsync(client));
        await client.SendAsync("hello world"u8.ToArray());
        var request = await received.WaitAsync(Hang);
        Assert.Contains("\r\nContent-Length: 11\r\n", request.Head, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("hello world", Encoding.ASCII.GetString(request.Body));
        Assert.StartsWith("HTTP/1.1 200", await ReadHeadAsync(client));
    }

    [Fact]
    public async Task Request_buffering_holds_a_body_beyond_memory_in_a_temporary_file()
    {
        Publish(requestBuffering: true);
        var received = _upstream.Answer(ScriptedUpstream.Ok);
        var body = Pattern(3 << 20);
        using var client = await ConnectAsync();
        await client.SendAsync(Encoding.ASCII.GetBytes("POST /up HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n"));
        // many small chunks: the body crosses the memory bound and goes on in the file
        for (var at = 0; at < body.Length; at += 100_000)
        {
            var part = body.AsMemory(at, Math.Min(100_000, body.Length - at));
            await client.SendAsync(Encoding.ASCII.GetBytes($"{part.Length:x}\r\n"));
            await client.SendAsync(part);
            await client.SendAsync("\r\n"u8.ToArray());
        }
        await client.SendAsync("0\r\n\r\n"u8.ToArray());
        var request = await received.WaitAsync(Hang);
        Assert.Contains($"\r\nContent-Length: {body.Length}\r\n", request.Head, StringComparison.OrdinalIgnoreCase);
        Assert.True(body.AsSpan().SequenceEqual(request.Body));
        Assert.True(Directory.Exists(Path.Combine(_gateway.Prefix, "client_body_temp")));
    }

    [Fact]
    public async Task Without_request_buffering_the_upstream_gets_the_request_before_the_body_ends()
    {
        Publish(requestBuffering: false);
        var head = _upstream.OnHead();
        var received = _upstream.Answer(ScriptedUpstream.Ok);
        using var client = await ConnectAsync();
        await client.SendAsync(Encoding.ASCII.GetBytes("POST /up HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
        // the client has not finished its body: the upstream must already have the request (buffered, this hangs)
        var upstreamHead = await head.WaitAsync(Hang);
        Assert.Contains("Transfer-Encoding: chunked", upstreamHead, StringComparison.OrdinalIgnoreCase);
        await client.SendAsync("6\r\n world\r\n0\r\n\r\n"u8.ToArray());
        Assert.Equal("hello world", Encoding.ASCII.GetString((await received.WaitAsync(Hang)).Body));
        Assert.StartsWith("HTTP/1.1 200", await ReadHeadAsync(client));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_streaming_upstreams_first_chunk_reaches_the_client_before_the_upstream_finishes(bool responseBuffering)
    {
        Publish(responseBuffering: responseBuffering);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = _upstream.Answer(async socket =>
        {
            await socket.SendAsync("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst\n\r\n"u8.ToArray());
            await release.Task;
            await socket.SendAsync("5\r\nlast\n\r\n0\r\n\r\n"u8.ToArray());
        });
        using var client = await ConnectAsync();
        await client.SendAsync("GET /events HTTP/1.1\r\nHost: a.test\r\n\r\n"u8.ToArray());
        var seen = new StringBuilder();
        var buffer = new byte[4096];
        while (!seen.ToString().Contains("first\n", StringComparison.Ordinal))
        {
            var n = await client.ReceiveAsync(buffer).WaitAsync(Hang);
            Assert.NotEqual(0, n);
            seen.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
        Assert.DoesNotContain("last", seen.ToString(), StringComparison.Ordinal);
        release.SetResult();
        while (!seen.ToString().EndsWith("0\r\n\r\n", StringComparison.Ordinal))
        {
            var n = await client.ReceiveAsync(buffer).WaitAsync(Hang);
            Assert.NotEqual(0, n);
            seen.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
        Assert.Contains("last\n", seen.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Response_buffering_lets_the_upstream_finish_while_the_client_reads_nothing()
    {
        Publish(responseBuffering: true);
        // larger than every socket buffer on the way (loopback autotuning reaches 32 MiB for a receive buffer),
        // so without buffering the upstream's send cannot complete before the client reads
        const int size = 80 << 20;
        var body = Pattern(1 << 20);
        var upstreamDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = _upstream.Answer(async socket =>
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n"));
            for (var sent = 0; sent < size; sent += body.Length) await socket.SendAsync(body);
            upstreamDone.SetResult();
        });
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await client.ConnectAsync(IPAddress.Loopback, _gateway.ProxyUri.Port);
        await client.SendAsync("GET /big HTTP/1.1\r\nHost: a.test\r\n\r\n"u8.ToArray());

        await upstreamDone.Task.WaitAsync(Hang); // the client has read nothing yet
        Assert.True(Directory.Exists(Path.Combine(_gateway.Prefix, "proxy_temp")));

        var head = await ReadHeadAsync(client);
        Assert.Contains($"Content-Length: {size}", head, StringComparison.OrdinalIgnoreCase);
        var chunk = new byte[64 * 1024];
        long received = 0;
        while (received < size)
        {
            var n = await client.ReceiveAsync(chunk).WaitAsync(Hang);
            Assert.NotEqual(0, n);
            for (var i = 0; i < n; i++)
                if (chunk[i] != body[(int)((received + i) % body.Length)]) Assert.Fail($"byte {received + i} differs");
            received += n;
        }
        Assert.Equal(size, received);
    }

    /// <summary>Reads up to the end of the response head (a byte at a time: no body byte is taken with it).</summary>
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

    private static byte[] Pattern(int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++) bytes[i] = (byte)(i * 7 + (i >> 11));
        return bytes;
    }
}
