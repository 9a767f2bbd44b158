using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Proxy.Pipeline;

/// <summary>
/// Read-only stream put in place of <c>HttpRequest.Body</c> when a plan has request-body handlers: what the forwarder
/// reads is the client body after every handler (each may replace or buffer it; Proxy-Wasm's on_request_body).
/// Installed only for requests that can have a body; with a Content-Length, the read that completes it carries the
/// end of stream. Without request buffering, <see cref="PrimeAsync"/> runs the handlers before the upstream is
/// contacted: a body the handlers hold to its end (or that arrives whole in the first read) is then sent with its
/// exact Content-Length, as ngx_wasm_module's; one whose first output comes before its end goes out chunked, since a
/// handler may still change its size.
/// </summary>
internal sealed class RequestBodyFilterStream : Stream
{
    private readonly Stream _inner;
    private readonly BodyFilterChain _chain;
    private readonly ProxyContext _context;
    private readonly PhasePlan _plan;
    private const int ReadSize = 16 * 1024;
    private ReadOnlyMemory<byte> _pending;
    private byte[]? _readBuffer;
    private long? _remaining;
    private bool _done;
    private bool _consumed;

    public RequestBodyFilterStream(Stream inner, ProxyContext context, PhasePlan plan)
    {
        _inner = inner;
        _context = context;
        _plan = plan;
        _chain = new BodyFilterChain(context, plan.RequestBodyFilters, plan.RequestBody, "request_body");
        _remaining = context.HttpContext.Request.ContentLength;
    }

    /// <summary>The whole body after the handlers, in bytes, once <see cref="PrimeAsync"/> (or the reads) reached its
    /// end before any of it was consumed; null while the length can still change.</summary>
    public long? CompleteLength => _done && !_consumed ? _pending.Length : null;

    /// <summary>The whole body after the handlers once <see cref="CompleteLength"/> is known; valid until
    /// <see cref="ConsumeComplete"/>.</summary>
    public ReadOnlyMemory<byte> CompleteBody => CompleteLength is not null ? _pending
        : throw new InvalidOperationException("the body is not complete, or was read");

    /// <summary>The caller has taken <see cref="CompleteBody"/>: the stream now reads as ended, and its read buffer is
    /// back in the pool.</summary>
    public void ConsumeComplete()
    {
        _ = CompleteBody;
        _consumed = true;
        _pending = default;
        ReturnReadBuffer();
    }

    /// <summary>Reads and runs the handlers until they give their first bytes or the body ends (the handlers hold a
    /// body they buffer, so this reads all of it then). Nothing is consumed: the reads start from what it produced.</summary>
    public async ValueTask PrimeAsync(CancellationToken cancellationToken)
    {
        while (_pending.IsEmpty && !_done) await FillAsync(cancellationToken);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_pending.IsEmpty && !_done) await FillAsync(cancellationToken);
        _consumed = true;
        if (_pending.IsEmpty) ReturnReadBuffer(); // the end, all of it consumed: nothing refers to the buffer now
        var count = Math.Min(buffer.Length, _pending.Length);
        _pending[..count].CopyTo(buffer);
        _pending = _pending[count..];
        return count;
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        // one pooled read buffer for the stream's life: the chain copies what a filter keeps, and what it returns
        // (_pending) is consumed before the next read. A body of known length smaller than a read rents a buffer of
        // about its size (a 1 KiB POST must not hold 16 KiB); later reads ask for at most what remains.
        _readBuffer ??= ArrayPool<byte>.Shared.Rent((int)Math.Min(ReadSize, Math.Max(1, _remaining ?? ReadSize)));
        var read = await _inner.ReadAsync(_readBuffer.AsMemory(0, (int)Math.Min(_readBuffer.Length, _remaining ?? ReadSize)), cancellationToken);
        _remaining -= read;
        var endOfStream = read == 0 || _remaining <= 0;
        _pending = await _chain.PushAsync(_readBuffer.AsMemory(0, read), endOfStream);
        _done = endOfStream;
        if (endOfStream && _plan.RequestTrailers.Count > 0) await TrailersAsync(read, cancellationToken);
    }

    /// <summary>Back to the pool once the end of stream was read and consumed. A request that stops before (client gone,
    /// a handler answered) leaves it to the GC: an unconsumed <see cref="_pending"/> may still point into it.</summary>
    private void ReturnReadBuffer()
    {
        if (!_done || _readBuffer is not { } buffer) return;
        _readBuffer = null;
        ArrayPool<byte>.Shared.Return(buffer);
    }

    /// <summary>After the body's end of stream: the trailers phase, when the client sent trailers. They are known
    /// once the body was read to its end, so a body that ended by its Content-Length is read once more (HTTP/2 may
    /// carry trailers after it).</summary>
    private async ValueTask TrailersAsync(int lastRead, CancellationToken cancellationToken)
    {
        var request = _context.HttpContext.Request;
        if (lastRead > 0 && !request.CheckTrailersAvailable())
            _ = await _inner.ReadAsync(new byte[1], cancellationToken); // _readBuffer may still hold _pending
        if (!request.CheckTrailersAvailable()) return;
        var trailers = _context.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestTrailersFeature>()?.Trailers;
        if (trailers is { Count: > 0 }) await PhaseRunner.RequestTrailersAsync(_plan, _context);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
