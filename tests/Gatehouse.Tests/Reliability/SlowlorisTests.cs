using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Tests.Infrastructure;
using Xunit.Abstractions;
using static Gatehouse.Tests.Infrastructure.TestConfig;

namespace Gatehouse.Tests.Reliability;

/// <summary>
/// Slowloris, bounded: hundreds of connections dribble a request header or a request body a few bytes at a time
/// against the real gateway (real Kestrel sockets, real upstream) while a normal client keeps sending requests.
/// Every normal request must succeed, and the server's timeouts (nginx_http_client_header_timeout, set short here;
/// Kestrel's minimum body data rate) must close every slow connection. Connection counts and duration scale with
/// <c>GATEHOUSE_SLOWLORIS_CONNECTIONS</c> (default 300).
/// </summary>
public sealed class SlowlorisTests(ITestOutputHelper output)
{
    private static readonly TimeSpan HeaderTimeout = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Slow_headers_and_slow_bodies_are_cut_off_while_normal_requests_are_served()
    {
        var connections = int.TryParse(Environment.GetEnvironmentVariable("GATEHOUSE_SLOWLORIS_CONNECTIONS"), out var n) && n > 0 ? n : 300;
        await using var upstream = await EchoUpstream.StartAsync();
        var service = Service(upstream);
        await using var gateway = await GatewayFixture.StartAsync(Of([service], [Route(service, "all", paths: ["/"])]),
            o => o with { ClientHeaderTimeout = HeaderTimeout });
        var endpoint = new IPEndPoint(IPAddress.Loopback, gateway.ProxyUri.Port);

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90)); // hard bound on the whole run
        var clock = Stopwatch.StartNew();
        var slow = Enumerable.Range(0, connections).Select(i => i % 2 == 0
            ? DribbleAsync(endpoint, "GET /slow-header HTTP/1.1\r\nHost: x\r\n", i2 => $"x-drip-{i2}: y\r\n", stop.Token)
            : DribbleAsync(endpoint, "POST /slow-body HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", _ => "b", stop.Token)).ToArray();

        // normal traffic while the attack is on: until every slow connection has been closed (at least 3 s)
        var latencies = new List<double>();
        var failures = new List<string>();
        using var client = gateway.CreateClient();
        client.Timeout = TimeSpan.FromSeconds(20);
        var normal = 0;
        while ((!slow.All(t => t.IsCompleted) || clock.Elapsed < TimeSpan.FromSeconds(3)) && !stop.IsCancellationRequested)
        {
            var sw = Stopwatch.StartNew();
            try
            {
                using var response = await client.GetAsync($"/normal/{normal}", stop.Token);
                if (response.StatusCode != HttpStatusCode.OK) failures.Add($"#{normal}: {(int)response.StatusCode}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                failures.Add($"#{normal}: {e.GetType().Name} {e.Message}");
            }
            latencies.Add(sw.Elapsed.TotalMilliseconds);
            normal++;
            await Task.Delay(10);
        }
        var outcomes = await Task.WhenAll(slow);
        var closedHeader = outcomes.Where((o, i) => i % 2 == 0 && o.ClosedByServer).ToArray();
        var closedBody = outcomes.Where((o, i) => i % 2 == 1 && o.ClosedByServer).ToArray();
        latencies.Sort();
        output.WriteLine($"slowloris: {connections} slow connections ({closedHeader.Length} header, {closedBody.Length} body closed by the server), " +
            $"{normal} normal requests, {failures.Count} failed, p50 {latencies[latencies.Count / 2]:F1} ms, p99 {latencies[(int)(latencies.Count * 0.99)]:F1} ms, " +
            $"slowest header cut at {outcomes.Where((_, i) => i % 2 == 0).Max(o => o.Lasted.TotalSeconds):F1} s, slowest body cut at {outcomes.Where((_, i) => i % 2 == 1).Max(o => o.Lasted.TotalSeconds):F1} s, run {clock.Elapsed.TotalSeconds:F1} s");

        Assert.Empty(failures);
        Assert.True(normal >= 20, $"only {normal} normal requests were made");
        Assert.Equal((connections + 1) / 2, closedHeader.Length);
        Assert.Equal(connections / 2, closedBody.Length);
        // the header timeout is what cut the header dribblers: not before it, and not long after (generous margin)
        Assert.All(closedHeader, o => Assert.InRange(o.Lasted, HeaderTimeout * 0.8, HeaderTimeout + TimeSpan.FromSeconds(30)));
    }

    private readonly record struct Outcome(bool ClosedByServer, TimeSpan Lasted);

    /// <summary>Connects, sends <paramref name="start"/>, then one small piece every 300 ms until the server closes
    /// the connection (a read returns 0 or the socket errors) or the run is stopped.</summary>
    private static async Task<Outcome> DribbleAsync(IPEndPoint endpoint, string start, Func<int, string> piece, CancellationToken stop)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endpoint, stop);
        var clock = Stopwatch.StartNew();
        var buffer = new byte[4096];
        var read = socket.ReceiveAsync(buffer, SocketFlags.None, stop).AsTask();
        try
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes(start), SocketFlags.None, stop);
            for (var i = 0; ; i++)
            {
                var tick = Task.Delay(300, stop);
                if (await Task.WhenAny(read, tick) == read)
                {
                    // the server answered (e.g. 408) or closed: drain to the end of the connection
                    while (await read > 0) read = socket.ReceiveAsync(buffer, SocketFlags.None, stop).AsTask();
                    return new Outcome(true, clock.Elapsed);
                }
                await socket.SendAsync(Encoding.ASCII.GetBytes(piece(i)), SocketFlags.None, stop);
            }
        }
        catch (SocketException)
        {
            return new Outcome(true, clock.Elapsed); // reset by the server
        }
        catch (OperationCanceledException)
        {
            return new Outcome(false, clock.Elapsed);
        }
    }
}
