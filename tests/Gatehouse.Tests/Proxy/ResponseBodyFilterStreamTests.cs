using System.Text;
using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace Gatehouse.Tests.Proxy;

/// <summary>The response-body stream keeps Content-Length true: exact when the whole output is known before the first
/// byte leaves, removed (chunked) when output leaves before the end of the body.</summary>
public sealed class ResponseBodyFilterStreamTests
{
    /// <summary>Streams: appends "!" to every chunk it sees (and to the end of stream), never buffers.</summary>
    private sealed class MarkEveryChunk : IResponseBodyHandler
    {
        public List<(string Data, bool End)> Calls { get; } = [];
        public string Name => "mark";

        public ValueTask<BodyOutcome> OnResponseBodyAsync(ProxyContext context, BodyChunk chunk)
        {
            Calls.Add((Encoding.ASCII.GetString(chunk.Data.Span), chunk.EndOfStream));
            chunk.Replace(Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(chunk.Data.Span) + "!"));
            return ValueTask.FromResult(BodyOutcome.Continue);
        }
    }

    private static (ResponseBodyFilterStream Stream, DefaultHttpContext Http, MemoryStream Client, MarkEveryChunk Handler) Create(
        long? expected, string method = "GET")
    {
        var http = new DefaultHttpContext();
        http.Request.Method = method;
        http.Response.ContentLength = expected;
        var client = new MemoryStream();
        var handler = new MarkEveryChunk();
        var plan = new PhasePlan([], [], [], [], [handler], []);
        var context = new ProxyContext(http, TimeProvider.System) { Plan = plan };
        return (new ResponseBodyFilterStream(client, context, plan) { ExpectedLength = expected }, http, client, handler);
    }

    [Fact]
    public async Task A_body_written_in_one_piece_is_its_own_end_of_stream_with_the_new_length()
    {
        var (stream, http, client, handler) = Create(expected: 5);
        await stream.WriteAsync(Encoding.ASCII.GetBytes("hello"));
        await stream.CompleteAsync(default);
        Assert.Equal([("hello", true)], handler.Calls);
        Assert.Equal("hello!", Encoding.ASCII.GetString(client.ToArray()));
        Assert.Equal(6, http.Response.ContentLength);
    }

    [Fact]
    public async Task Output_before_the_end_goes_out_chunked()
    {
        var (stream, http, client, handler) = Create(expected: 6);
        await stream.WriteAsync(Encoding.ASCII.GetBytes("abc"));
        Assert.Null(http.Response.ContentLength);
        await stream.WriteAsync(Encoding.ASCII.GetBytes("def"));
        await stream.CompleteAsync(default);
        Assert.Equal([("abc", false), ("def", true)], handler.Calls);
        Assert.Equal("abc!def!", Encoding.ASCII.GetString(client.ToArray()));
        Assert.Null(http.Response.ContentLength);
    }

    [Fact]
    public async Task A_body_of_unknown_length_gets_its_end_of_stream_from_completion()
    {
        var (stream, http, client, handler) = Create(expected: null);
        await stream.WriteAsync(Encoding.ASCII.GetBytes("abc"));
        await stream.CompleteAsync(default);
        Assert.Equal([("abc", false), ("", true)], handler.Calls);
        Assert.Equal("abc!!", Encoding.ASCII.GetString(client.ToArray()));
        Assert.Null(http.Response.ContentLength);
    }

    [Fact]
    public async Task An_empty_body_keeps_the_declared_length_and_head_keeps_the_upstreams()
    {
        var (empty, emptyHttp, _, _) = Create(expected: 0);
        await empty.CompleteAsync(default);
        Assert.Equal(1, emptyHttp.Response.ContentLength); // the handler added "!" at the end of stream

        var (head, headHttp, headClient, _) = Create(expected: 100, method: "HEAD");
        await head.CompleteAsync(default);
        Assert.Equal(100, headHttp.Response.ContentLength);
        Assert.Equal(1, headClient.Length); // Kestrel drops HEAD body bytes; the stream does not decide that
    }
}
