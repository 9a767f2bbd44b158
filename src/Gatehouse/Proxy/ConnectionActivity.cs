using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Gatehouse.Proxy;

/// <summary>
/// One client connection's plane and phase: idle, reading a request header (bytes arrived, no request in the
/// application yet), or in a request. Stored in the connection's items by the listener's connection middleware;
/// the phase moves only on HTTP/1.x connections, whose input is observed by Hosting's <c>ActivityPipeReader</c>
/// (HTTP/2 multiplexes streams on one connection, so it has no per-connection reading phase).
/// On HTTP/1.x it also counts the request's and the response's bytes on the wire (nginx's <c>$request_length</c> and
/// <c>$bytes_sent</c>): the transport wrappers add what Kestrel consumes and writes; one request at a time per
/// connection, so the current request's marks live here (no allocation per request). On an HTTP/2 proxy connection
/// the same figures are per stream (<see cref="Http2StreamSizes"/>), as nginx counts them on HTTP/2.
/// </summary>
internal sealed class ConnectionActivity(ListenerKind kind, GatewayCounters counters, long number)
{
    private const int Idle = 0, Reading = 1, InRequest = 2;
    private int _phase;
    // HTTP/1.x wire bytes since the connection opened (plaintext, after TLS), and the current request's marks
    private long _consumed, _written;
    private long _requestStart, _headEnd, _responseStart;
    private bool _requestStartKnown = true;

    public ListenerKind Kind { get; } = kind;

    /// <summary>The connection's accept number, as nginx's connection counter (Proxy-Wasm's <c>connection.id</c>).</summary>
    public long Number { get; } = number;

    public static ConnectionActivity? Of(HttpContext http) =>
        http.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(ListenerKinds.ItemKey, out var v) == true ? v as ConnectionActivity : null;

    /// <summary>Bytes arrived: an idle connection starts reading a request header.</summary>
    public void BytesReceived()
    {
        if (Volatile.Read(ref _phase) == Idle && Interlocked.CompareExchange(ref _phase, Reading, Idle) == Idle) counters.ReadingStarted();
    }

    /// <summary>The transport wrappers are installed: this HTTP/1.x connection's bytes are counted.</summary>
    public bool CountsWireBytes { get; private set; }

    public void CountWireBytes() => CountsWireBytes = true;

    /// <summary>An HTTP/2 connection's per-stream counts, when its frames are scanned (proxy listeners).</summary>
    public Http2StreamSizes? Http2Streams { get; private set; }

    public void CountHttp2Streams(Http2StreamSizes streams) => Http2Streams = streams;

    /// <summary>Kestrel consumed bytes of the input (a request head, or body bytes as they are read).</summary>
    public void Consumed(long bytes) => _consumed += bytes;

    /// <summary>Kestrel wrote bytes of a response.</summary>
    public void Wrote(long bytes) => _written += bytes;

    /// <summary>nginx's <c>$request_length</c>: on HTTP/1.x the current request's bytes consumed so far — the request
    /// line and headers, then the body as it is read (with its chunked framing); on HTTP/2 the request's header block
    /// as received (HPACK-compressed), then its body as read. Null when not counted (HTTP/3, non-proxy HTTP/2), or when
    /// the request before it on this HTTP/1.x connection left a chunked body unread (where its bytes end is unknown).</summary>
    public long? RequestBytes(HttpContext http) =>
        Http2Streams is { } streams ? streams.Of(http)?.Received
        : CountsWireBytes && _requestStartKnown ? Volatile.Read(ref _consumed) - _requestStart : null;

    /// <summary>nginx's <c>$bytes_sent</c>: the current response's bytes written so far — on HTTP/1.x the status line,
    /// headers, body and its framing; on HTTP/2 the stream's HEADERS, CONTINUATION and DATA frames. Null when not
    /// counted.</summary>
    public long? ResponseBytes(HttpContext http) =>
        Http2Streams is { } streams ? streams.Of(http)?.Sent
        : CountsWireBytes ? Volatile.Read(ref _written) - _responseStart : null;

    public void RequestStarted(HttpContext http)
    {
        if (Interlocked.Exchange(ref _phase, InRequest) == Reading) counters.ReadingEnded();
        if (Http2Streams?.Of(http) is { } stream)
        {
            stream.Started();
            // the body is counted as the gateway reads it (nginx: as it is read, not as it arrives)
            if (http.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
                http.Request.Body = new Http2CountingRequestBody(http.Request.Body, stream);
            return;
        }
        if (!CountsWireBytes) return;
        // Kestrel has consumed this request's head and nothing of its body; the response has not begun
        _headEnd = _consumed;
        _responseStart = _written;
    }

    /// <summary>The request is over: where the next one's bytes begin. A body left unread is drained by Kestrel
    /// before the next request: with a Content-Length its remaining bytes are known; a chunked one's only when it was
    /// read to its end.</summary>
    public void RequestEnded(HttpContext http)
    {
        Interlocked.CompareExchange(ref _phase, Idle, InRequest);
        if (Http2Streams is { } streams)
        {
            streams.Remove(http);
            return;
        }
        if (!CountsWireBytes) return;
        long? unread = UnreadBodyBytes(http);
        _requestStartKnown = unread.HasValue;
        _requestStart = _consumed + unread.GetValueOrDefault();
    }

    private long? UnreadBodyBytes(HttpContext http)
    {
        var request = http.Request;
        if (http.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == false) return 0;
        if (request.ContentLength is { } length) return Math.Max(0, length - (_consumed - _headEnd));
        // chunked: read to its end, the body reader answers completed at once; asking an unread one whose client
        // waits for "100 Continue" would send that interim response after the final one
        if (request.Headers.ContainsKey(HeaderNames.Expect)) return null;
        try
        {
            if (!request.BodyReader.TryRead(out var result)) return null;
            request.BodyReader.AdvanceTo(result.Buffer.Start, result.Buffer.Start);
            return result.IsCompleted && result.Buffer.IsEmpty ? 0 : null;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or BadHttpRequestException) { return null; }
    }

    /// <summary>X-Forwarded-Port's value: the port this connection was accepted on, as text, made once per connection.</summary>
    public string LocalPortText(HttpContext http) =>
        _localPort ??= http.Connection.LocalPort.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary><see cref="Routing.RouteRequest.SplitHost"/> of a request's <see cref="HttpRequest.Host"/>, kept for the
    /// connection's next requests, which nearly always send the same one (the router and X-Forwarded-Host then take no
    /// new string). Keyed by the raw Host header, of which <see cref="HttpRequest.Host"/> is a function (its IDN
    /// decoding): a repeated Host is neither decoded nor split again. HTTP/2 streams of one connection may ask
    /// concurrently: the entry is replaced whole.</summary>
    public (string Host, int? Port) SplitHost(HttpRequest request)
    {
        var raw = request.Headers.Host.ToString();
        var last = Volatile.Read(ref _host);
        if (last is not null && string.Equals(last.Raw, raw, StringComparison.Ordinal)) return (last.Host, last.Port);
        var (host, port) = Routing.RouteRequest.SplitHost(request.Host.Value);
        Volatile.Write(ref _host, new SplitHostEntry(raw, host, port));
        return (host, port);
    }

    private string? _localPort;
    private SplitHostEntry? _host;

    private sealed record SplitHostEntry(string Raw, string Host, int? Port);

    public void Closed()
    {
        if (Interlocked.Exchange(ref _phase, Idle) == Reading) counters.ReadingEnded();
    }
}
