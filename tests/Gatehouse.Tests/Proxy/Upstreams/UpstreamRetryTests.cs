using System.Net.Sockets;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Proxy.Upstreams;

/// <summary>
/// Retries as Kong's nginx does them (<c>proxy_next_upstream error timeout</c>, service.retries more tries): a try that
/// fails after the request was sent (the upstream closes without answering, or read_timeout expires before the
/// response header) goes to the next peer, unless the method is POST/LOCK/PATCH or the body was streamed. Raw socket
/// upstreams on 127.0.0.1 (<see cref="ScriptedUpstream"/>): a failing one and one that answers 200.
/// <para>Two targets of equal weight, round-robin from a random start: of two requests in a row, at least one begins
/// on the failing target; without retries, exactly one does.</para>
/// </summary>
public sealed class UpstreamRetryTests
{
    private const string Upstream = "retry.internal";

    /// <summary>Reads the request (ScriptedUpstream has read it, body included) and closes without a response.</summary>
    private static Task CloseWithoutAnswer(Socket socket)
    {
        socket.Shutdown(SocketShutdown.Both);
        return Task.CompletedTask;
    }

    /// <summary>Never sends a header: holds the connection until the gateway closes it.</summary>
    private static async Task HangUntilClosed(Socket socket)
    {
        var one = new byte[1];
        try { while (await socket.ReceiveAsync(one) > 0) { } }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    private static Func<Socket, Task> Failure(string how) => how == "close" ? CloseWithoutAnswer : HangUntilClosed;

    /// <summary>Short enough for a test, long enough for the answering target on a loaded machine.</summary>
    private static int ReadTimeoutFor(string how) => how == "hang" ? 1000 : 60000;

    /// <summary>A failing upstream: each of its next <paramref name="count"/> requests fails as <paramref name="how"/> says.</summary>
    private static ScriptedUpstream Failing(string how, int count = 4)
    {
        var upstream = new ScriptedUpstream();
        for (var i = 0; i < count; i++) _ = upstream.Answer(Failure(how));
        return upstream;
    }

    private static async Task<UpstreamGateway> StartAsync(ScriptedUpstream failing, ScriptedUpstream good, int retries,
        int readTimeout = 60000, bool requestBuffering = true)
    {
        var gw = await UpstreamGateway.StartAsync(false);
        await gw.CreateAsync("/upstreams", $$"""{"name":"{{Upstream}}"}""");
        await gw.CreateAsync($"/upstreams/{Upstream}/targets", $$"""{"target":"127.0.0.1:{{failing.Port}}"}""");
        await gw.CreateAsync($"/upstreams/{Upstream}/targets", $$"""{"target":"127.0.0.1:{{good.Port}}"}""");
        await gw.CreateAsync("/services", $$"""{"name":"svc","host":"{{Upstream}}","retries":{{retries}},"read_timeout":{{readTimeout}}}""");
        await gw.CreateAsync("/services/svc/routes", $$"""{"paths":["/"],"request_buffering":{{(requestBuffering ? "true" : "false")}}}""");
        return gw;
    }

    private static async Task<int> SendAsync(UpstreamGateway gw, HttpMethod method, byte[]? body = null)
    {
        using var request = new HttpRequestMessage(method, "/r");
        if (body is not null) request.Content = new ByteArrayContent(body);
        using var response = await gw.Proxy.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        return (int)response.StatusCode;
    }

    [Theory]
    [InlineData("close", 502)]
    [InlineData("hang", 504)]
    public async Task A_GET_that_failed_after_it_was_sent_is_retried_on_the_other_target_and_tries_records_both(string how, int failedCode)
    {
        using var failing = Failing(how);
        using var good = new ScriptedUpstream();
        await using var gw = await StartAsync(failing, good, retries: 1, readTimeout: ReadTimeoutFor(how));
        var log = Path.Combine(gw.Prefix, "requests.log");
        await gw.CreateAsync("/services/svc/plugins", new JsonObject { ["name"] = "file-log", ["config"] = new JsonObject { ["path"] = log } }.ToJsonString());

        var statuses = new[] { await SendAsync(gw, HttpMethod.Get), await SendAsync(gw, HttpMethod.Get) };
        Assert.Equal([200, 200], statuses);
        Assert.InRange(failing.Requests, 1, 2);
        Assert.Equal(2, good.Requests);

        await Eventually.TrueAsync(() => File.Exists(log) && File.ReadAllLines(log).Length == 2);
        var tries = File.ReadAllLines(log).Select(l => JsonNode.Parse(l)!["tries"]!.AsArray()).ToArray();
        Assert.Equal(failing.Requests, tries.Count(t => t.Count == 2));
        foreach (var retried in tries.Where(t => t.Count == 2))
        {
            Assert.Equal(failing.Port, retried[0]!["port"]!.GetValue<int>());
            Assert.Equal("failed", retried[0]!["state"]!.GetValue<string>());
            Assert.Equal(failedCode, retried[0]!["code"]!.GetValue<int>());
            Assert.Equal(good.Port, retried[1]!["port"]!.GetValue<int>());
            Assert.Null(retried[1]!["state"]);
        }
    }

    /// <summary>nginx does not pass a POST to the next server once it was sent (non_idempotent is not set by Kong).</summary>
    [Theory]
    [InlineData("close", 502)]
    [InlineData("hang", 504)]
    public async Task A_POST_that_failed_after_it_was_sent_is_not_retried(string how, int status)
    {
        using var failing = Failing(how);
        using var good = new ScriptedUpstream();
        await using var gw = await StartAsync(failing, good, retries: 3, readTimeout: ReadTimeoutFor(how));
        var statuses = new[] { await SendAsync(gw, HttpMethod.Post, "a"u8.ToArray()), await SendAsync(gw, HttpMethod.Post, "b"u8.ToArray()) };
        Assert.Equal([200, status], statuses.Order());
        // the failed POST reached the failing target only
        Assert.Equal(1, failing.Requests);
        Assert.Equal(1, good.Requests);
    }

    /// <summary>request_buffering (the default) holds the whole body (here past the memory part, in the temporary file
    /// too), so the retry sends it again, byte-exact.</summary>
    [Fact]
    public async Task A_buffered_PUT_body_is_sent_whole_again_to_the_other_target()
    {
        using var failing = Failing("close");
        using var good = new ScriptedUpstream();
        var received = new[] { good.Answer(ScriptedUpstream.Ok), good.Answer(ScriptedUpstream.Ok) };
        await using var gw = await StartAsync(failing, good, retries: 1);
        var bodies = new[] { new byte[200_000], new byte[200_000] };
        Random.Shared.NextBytes(bodies[0]);
        Random.Shared.NextBytes(bodies[1]);

        var statuses = new[] { await SendAsync(gw, HttpMethod.Put, bodies[0]), await SendAsync(gw, HttpMethod.Put, bodies[1]) };
        Assert.Equal([200, 200], statuses);
        Assert.InRange(failing.Requests, 1, 2);
        Assert.Equal(bodies[0], (await received[0]).Body);
        Assert.Equal(bodies[1], (await received[1]).Body);
    }

    /// <summary>request_buffering off: the body went to the failing target as it arrived and is not held, so the try
    /// cannot be repeated (nginx: request_body_no_buffering once the request was sent).</summary>
    [Fact]
    public async Task A_streamed_PUT_body_that_was_sent_is_not_retried()
    {
        using var failing = new ScriptedUpstream();
        var sent = failing.Answer(CloseWithoutAnswer);
        _ = failing.Answer(CloseWithoutAnswer);
        using var good = new ScriptedUpstream();
        await using var gw = await StartAsync(failing, good, retries: 3, requestBuffering: false);
        var body = new byte[100_000];
        Random.Shared.NextBytes(body);

        var statuses = new[] { await SendAsync(gw, HttpMethod.Put, body), await SendAsync(gw, HttpMethod.Put, body) };
        Assert.Equal([200, 502], statuses.Order());
        Assert.Equal(body, (await sent).Body);
        Assert.Equal(1, failing.Requests);
        Assert.Equal(1, good.Requests);
    }

    /// <summary>nginx's invalid_header is not among Kong's next-upstream cases: the answer is 502, from one try.</summary>
    [Fact]
    public async Task A_GET_answered_with_an_invalid_header_is_not_retried()
    {
        using var failing = new ScriptedUpstream();
        for (var i = 0; i < 2; i++) _ = failing.Answer(s => s.SendAsync("NOT-HTTP garbage\r\n\r\n"u8.ToArray()));
        using var good = new ScriptedUpstream();
        await using var gw = await StartAsync(failing, good, retries: 3);
        var statuses = new[] { await SendAsync(gw, HttpMethod.Get), await SendAsync(gw, HttpMethod.Get) };
        Assert.Equal([200, 502], statuses.Order());
        Assert.Equal(1, failing.Requests);
        Assert.Equal(1, good.Requests);
    }

    [Fact]
    public async Task Retries_0_sends_each_request_to_one_target_only()
    {
        using var failing = Failing("close");
        using var good = new ScriptedUpstream();
        await using var gw = await StartAsync(failing, good, retries: 0);
        var statuses = new[] { await SendAsync(gw, HttpMethod.Get), await SendAsync(gw, HttpMethod.Get) };
        Assert.Equal([200, 502], statuses.Order());
        Assert.Equal(1, failing.Requests);
        Assert.Equal(1, good.Requests);
    }
}
