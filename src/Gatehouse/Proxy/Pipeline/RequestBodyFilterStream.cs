namespace Gatehouse.Proxy.Pipeline;

/// <summary>
/// Read-only stream put in place of <c>HttpRequest.Body</c> when a plan has request-body handlers: what the forwarder
/// reads is the client body after every handler (each may replace or buffer it; Proxy-Wasm's on_request_body).
/// The upstream request is then sent without Content-Length (chunked), since the length may change. Installed only for
/// requests that can have a body; with a Content-Length, the read that completes it carries the end of stream.
/// </summary>
internal sealed class RequestBodyFilterStream : Stream
{
    private readonly Stream _inner;
    private readonly BodyFilterChain _chain;
    private const int ReadSize = 16 * 1024;
    private ReadOnlyMemory<byte> _pending;
    private long? _remaining;
    private bool _done;

    public RequestBodyFilterStream(Stream inner, ProxyContext context, PhasePlan plan)
    {
        _inner = inner;
        _chain = new BodyFilterChain(context, plan.RequestBodyFilters);
        _remaining = context.HttpContext.Request.ContentLength;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_pending.IsEmpty && !_done)
        {
            // the chain may keep what it is given (buffering): each read gets its own array of the size read
            var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(ReadSize);
            byte[] chunk;
            try
            {
                var read = await _inner.ReadAsync(rented.AsMemory(0, (int)Math.Min(ReadSize, _remaining ?? ReadSize)), cancellationToken);
                chunk = read == 0 ? [] : rented.AsSpan(0, read).ToArray();
            }
            finally { System.Buffers.ArrayPool<byte>.Shared.Return(rented); }
            _remaining -= chunk.Length;
            var endOfStream = chunk.Length == 0 || _remaining <= 0;
            _pending = await _chain.PushAsync(chunk, endOfStream);
            _done = endOfStream;
        }
        var count = Math.Min(buffer.Length, _pending.Length);
        _pending[..count].CopyTo(buffer);
        _pending = _pending[count..];
        return count;
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
