using Microsoft.AspNetCore.Http;

namespace Gatehouse.Proxy.Pipeline;

/// <summary>
/// Write-only stream put in place of <c>HttpResponse.Body</c> when a plan has response-body handlers: every write
/// flows through the handlers in order (each may replace or buffer), and what the last one passes on reaches the
/// client. <see cref="CompleteAsync"/> delivers the end-of-stream call and flushes what is still buffered.
/// Content-Length: the write that completes a body of known length (<see cref="ExpectedLength"/>) is delivered with
/// end of stream, so a body that passes the handlers in one piece — most responses — leaves with its exact new length
/// in one write; a body whose first output comes before its end goes out chunked, since a handler may still change
/// its size. (ngx_wasm_module leaves the upstream's Content-Length to the filter; we keep the header true.)
/// </summary>
internal sealed class ResponseBodyFilterStream : ResponseBodyStream
{
    private readonly ProxyContext _context;
    private readonly BodyFilterChain _chain;
    private bool _completed;
    private long _received;
    private bool _written;

    public ResponseBodyFilterStream(Stream inner, ProxyContext context, PhasePlan plan) : base(inner)
    {
        _context = context;
        _chain = new BodyFilterChain(context, plan.ResponseBodyFilters, plan.ResponseBody, "body_filter");
    }

    /// <summary>Length of the body this stream will be given (the upstream's or the local answer's Content-Length),
    /// when known.</summary>
    public long? ExpectedLength { get; set; }

    /// <remarks>No frame of its own when the handlers answer at once: the write beneath is the caller's to await.</remarks>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty || _completed) return default;
        _received += buffer.Length;
        var last = _received == ExpectedLength;
        _completed = last;
        var pushing = _chain.PushAsync(buffer, endOfStream: last);
        return pushing.IsCompletedSuccessfully ? Emit(pushing.Result, last, cancellationToken) : EmitAfterAsync(pushing, last, cancellationToken);
    }

    private async ValueTask EmitAfterAsync(ValueTask<ReadOnlyMemory<byte>> pushing, bool endOfStream, CancellationToken ct) =>
        await Emit(await pushing, endOfStream, ct);

    /// <summary>Sends the end-of-stream call through every handler and writes what remains. A body of which bytes
    /// were written needs no flush: the streams beneath (Kestrel's response body, <see cref="BufferedResponseStream"/>
    /// over it) send every write; with nothing written, the flush sends the response head now.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (!_completed)
        {
            _completed = true;
            await Emit(await _chain.PushAsync(ReadOnlyMemory<byte>.Empty, endOfStream: true), true, cancellationToken);
        }
        if (!_written) await Inner.FlushAsync(cancellationToken);
    }

    private ValueTask Emit(ReadOnlyMemory<byte> data, bool endOfStream, CancellationToken ct)
    {
        if (!_written) SetContentLength(data.Length, endOfStream);
        if (data.IsEmpty) return default;
        _written = true;
        _context.ResponseBodyBytes += data.Length;
        return Inner.WriteAsync(data, ct);
    }

    /// <summary>Before the first byte: at the end of stream the whole output is known (exact Content-Length); output
    /// before the end may still change size, so it goes out chunked. HEAD answers keep the upstream's header, and an
    /// empty body stays as the upstream declared it (204, 304).</summary>
    private void SetContentLength(int length, bool endOfStream)
    {
        var http = _context.HttpContext;
        if (http.Response.HasStarted || HttpMethods.IsHead(http.Request.Method)) return;
        if (endOfStream)
        {
            if (length > 0 || _received > 0) http.Response.ContentLength = length;
        }
        else if (length > 0) http.Response.ContentLength = null;
    }
}
