using System.Text;
using Gatehouse.Model;
using Xunit;

namespace Gatehouse.Tests.Reliability;

/// <summary>
/// Regression tests for issue #10 items 7, 8, 11 and 12 with raw sockets on both sides: Connection-named headers,
/// non-ASCII header bytes (client → upstream, upstream → client, through a Proxy-Wasm filter), framing nginx
/// refuses, and an upstream 204 that announces a body.
/// </summary>
public sealed class HeaderFramingTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private ReliabilityGateway _gw = null!;

    public async Task InitializeAsync() => _gw = await ReliabilityGateway.StartAsync(wasm: true);

    public async Task DisposeAsync() => await _gw.DisposeAsync();

    private static byte[] Bytes(string latin1) => Encoding.Latin1.GetBytes(latin1);

    private async Task<RawResponse> SendAsync(string request)
    {
        var responses = await RawHttp.SendAsync(_gw.ProxyUri, Bytes(request));
        return Assert.Single(responses);
    }

    // :: #7 hop-by-hop headers named in Connection

    [Theory]
    [InlineData("keep-alive, X-Foo , x-bar")] // Kestrel alone keeps only "keep-alive" of this
    [InlineData("X-Foo, x-bar, keep-alive")]
    [InlineData("close, X-Foo,x-bar")]
    [InlineData("X-Foo, x-bar")]
    [InlineData("X-Foo, keep-alive, close, x-bar")]
    public async Task Headers_named_in_the_request_Connection_header_do_not_reach_the_upstream(string connection)
    {
        var response = await SendAsync($"GET /c HTTP/1.1\r\nHost: a\r\nConnection: {connection}\r\nX-Foo: 1\r\nX-Bar: 2\r\nX-Keep: 3\r\n\r\n");
        Assert.Equal(200, response.Status);
        var seen = _gw.Upstream.Take(Wait)!;
        Assert.Null(seen.Header("X-Foo"));
        Assert.Null(seen.Header("X-Bar"));
        Assert.Null(seen.Header("Connection"));
        Assert.Equal("3", seen.Header("X-Keep"));
    }

    [Fact]
    public async Task Headers_named_in_the_upstream_Connection_header_do_not_reach_the_client()
    {
        _gw.Upstream.Respond = _ => Bytes("HTTP/1.1 200 OK\r\nConnection: X-Secret, keep-alive\r\nX-Secret: s\r\nX-Public: p\r\nContent-Length: 2\r\n\r\nok");
        var response = await SendAsync("GET /c HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal(200, response.Status);
        Assert.Null(response.Header("X-Secret"));
        Assert.Equal("p", response.Header("X-Public"));
        Assert.Equal("ok", response.BodyText);
    }

    // :: #8 non-ASCII header bytes pass through unchanged

    [Theory]
    [InlineData("caf\u00c3\u00a9")] // UTF-8 café
    [InlineData("caf\u00e9")] // Latin-1 café
    [InlineData("\u00ff\u0080 tab\there")]
    public async Task Non_ASCII_request_header_bytes_reach_the_upstream_unchanged(string value)
    {
        var response = await SendAsync($"GET /n HTTP/1.1\r\nHost: a\r\nX-Name: {value}\r\n\r\n");
        Assert.Equal(200, response.Status);
        Assert.Contains($"\r\nX-Name: {value}\r\n", _gw.Upstream.Take(Wait)!.HeadText + "\r\n", StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("caf\u00c3\u00a9")]
    [InlineData("caf\u00e9")]
    public async Task Non_ASCII_HTTP_2_request_header_bytes_reach_the_upstream_unchanged(string value)
    {
        var status = await H2.SendAsync(_gw.Gateway.H2cUri!, [(":method", "GET"), (":scheme", "http"), (":path", "/h2"), (":authority", "a"), ("x-name", value)]);
        Assert.Equal(200, status);
        Assert.Equal(value, _gw.Upstream.Take(Wait)!.Header("x-name"));
    }

    [Theory]
    [InlineData("caf\u00c3\u00a9")]
    [InlineData("caf\u00e9")]
    public async Task Non_ASCII_upstream_response_header_bytes_reach_the_client_unchanged(string value)
    {
        _gw.Upstream.Respond = _ => Bytes($"HTTP/1.1 200 OK\r\nX-Name: {value}\r\nContent-Length: 2\r\n\r\nok");
        var response = await SendAsync("GET /n HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal(200, response.Status);
        Assert.Contains($"\r\nX-Name: {value}\r\n", response.Head + "\r\n", StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_filter_reads_the_clients_exact_bytes_and_what_it_sets_reaches_both_sides_byte_for_byte()
    {
        // phases filter: get_header reports non-printable bytes as hex; set_header's value comes from JSON (UTF-8)
        _gw.Publish(new FilterEntryModel("phases", true, """
            {"log_phases": false,
             "request_headers": [{"action": "get_header", "name": "x-name"},
                                 {"action": "set_header", "name": "x-set", "value": "caf\u00e9 \u00fc"}],
             "response_headers": [{"action": "get_header", "name": "x-up"},
                                  {"action": "set_header", "name": "x-set-resp", "value": "\u00e9"}]}
            """));
        _gw.Upstream.Respond = _ => Bytes("HTTP/1.1 200 OK\r\nX-Up: \u00e9\u00c3\u00a9\r\nContent-Length: 2\r\n\r\nok");
        var response = await SendAsync("GET /f HTTP/1.1\r\nHost: a\r\nX-Name: caf\u00e9\u00c3\u00a9\r\n\r\n");
        Assert.Equal(200, response.Status);
        var seen = _gw.Upstream.Take(Wait)!;
        Assert.Equal("caf\u00c3\u00a9 \u00c3\u00bc", seen.Header("x-set")); // the UTF-8 bytes the filter set
        Assert.Equal("caf\u00e9\u00c3\u00a9", seen.Header("X-Name")); // untouched
        Assert.Equal("hex:636166e9c3a9", response.Header("x-header-x-name")); // what the filter read: the client's bytes
        Assert.Equal("hex:e9c3a9", response.Header("x-header-x-up"));
        Assert.Equal("\u00c3\u00a9", response.Header("x-set-resp"));
    }

    // :: #11 framing nginx refuses

    [Theory]
    [InlineData("Content-Length: +5\r\n", "hello", 400)]
    [InlineData("Content-Length: -0\r\n", "", 400)]
    [InlineData("Transfer-Encoding: gzip, chunked\r\n", "5\r\nhello\r\n0\r\n\r\n", 501)]
    [InlineData("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "5\r\nhello\r\n0\r\n\r\n", 400)]
    [InlineData("Transfer-Encoding: chunked, chunked\r\n", "5\r\nhello\r\n0\r\n\r\n", 501)]
    [InlineData("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "5\r\nhello\r\n0\r\n\r\n", 400)]
    [InlineData("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "5\r\nhello\r\n0\r\n\r\n", 400)]
    public async Task Framing_nginx_refuses_is_refused_before_routing_and_the_connection_closed(string headers, string body, int status)
    {
        // the smuggled second request must never be answered nor reach the upstream
        var (responses, closed) = await RawHttp.SendAndWatchCloseAsync(_gw.ProxyUri,
            Bytes($"POST /x HTTP/1.1\r\nHost: a\r\n{headers}\r\n{body}GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"), Wait);
        var response = Assert.Single(responses);
        Assert.Equal(status, response.Status);
        Assert.True(closed);
        Assert.Null(_gw.Upstream.Take(TimeSpan.FromMilliseconds(300)));
        if (response.Body.Length > 0) Assert.StartsWith("{\"message\":", response.BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refused_framing_answers_Kong_JSON()
    {
        var response = await SendAsync("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n");
        Assert.Equal(400, response.Status);
        Assert.Equal("application/json; charset=utf-8", response.Header("Content-Type"));
        Assert.Equal("{\"message\":\"Bad request\"}", response.BodyText);
        Assert.Equal("close", response.Header("Connection"));
    }

    [Fact]
    public async Task Transfer_encoding_on_HTTP_1_0_is_refused()
    {
        var response = await SendAsync("POST /x HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        Assert.Equal(400, response.Status);
        Assert.Null(_gw.Upstream.Take(TimeSpan.FromMilliseconds(300)));
    }

    [Theory]
    [InlineData("transfer-encoding", "chunked")]
    [InlineData("keep-alive", "timeout=5")]
    [InlineData("proxy-connection", "keep-alive")]
    [InlineData("upgrade", "websocket")]
    public async Task Connection_specific_headers_on_HTTP_2_are_refused(string name, string value)
    {
        var status = await H2.SendAsync(_gw.Gateway.H2cUri!, [(":method", "GET"), (":scheme", "http"), (":path", "/h2"), (":authority", "a"), (name, value)]);
        Assert.Equal(400, status);
        Assert.Null(_gw.Upstream.Take(TimeSpan.FromMilliseconds(300)));
        Assert.Equal(200, await H2.SendAsync(_gw.Gateway.H2cUri!, [(":method", "GET"), (":scheme", "http"), (":path", "/h2"), (":authority", "a")]));
    }

    // :: #12 an upstream 204 that announces a body

    [Theory]
    [InlineData("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n")]
    [InlineData("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello")]
    [InlineData("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")]
    public async Task An_upstream_204_with_a_Content_Length_is_answered_as_a_204_without_body(string upstream)
    {
        _gw.Upstream.Respond = r => Bytes(r.RequestLine.Contains("/after", StringComparison.Ordinal) ? Encoding.Latin1.GetString(RecordingUpstream.Ok) : upstream);
        var responses = await RawHttp.SendAsync(_gw.ProxyUri, Bytes("GET /204 HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n"), responses: 2);
        Assert.Equal(2, responses.Count);
        Assert.Equal(204, responses[0].Status);
        Assert.Null(responses[0].Header("Content-Length"));
        Assert.Null(responses[0].Header("Transfer-Encoding"));
        Assert.Equal(200, responses[1].Status); // the client connection is still in step
        Assert.Equal("ok", responses[1].BodyText);
    }

    [Fact]
    public async Task An_upstream_304_keeps_its_Content_Length_and_sends_no_body()
    {
        _gw.Upstream.Respond = r => Bytes(r.RequestLine.Contains("/after", StringComparison.Ordinal)
            ? Encoding.Latin1.GetString(RecordingUpstream.Ok) : "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nETag: \"x\"\r\n\r\n");
        var responses = await RawHttp.SendAsync(_gw.ProxyUri, Bytes("GET /304 HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n"), responses: 2);
        Assert.Equal(2, responses.Count);
        Assert.Equal(304, responses[0].Status);
        Assert.Equal("5", responses[0].Header("Content-Length"));
        Assert.Equal(200, responses[1].Status);
    }

    [Fact]
    public async Task A_HEAD_answer_keeps_its_Content_Length_and_sends_no_body()
    {
        _gw.Upstream.Respond = r => Bytes(r.RequestLine.StartsWith("HEAD", StringComparison.Ordinal)
            ? "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n" : Encoding.Latin1.GetString(RecordingUpstream.Ok));
        var head = await RawHttp.SendAsync(_gw.ProxyUri, Bytes("HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n"), headRequest: true);
        Assert.Equal(200, head[0].Status);
        Assert.Equal("5", head[0].Header("Content-Length"));
    }
}
