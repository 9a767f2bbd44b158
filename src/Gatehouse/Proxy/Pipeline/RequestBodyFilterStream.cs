namespace Gatehouse.Proxy.Pipeline;

/// <summary>
/// Read-only stream put in place of <c>HttpRequest.Body</c> when a plan has request-body handlers: what the forwarder
/// reads is the client body after every handler (each may replace or buffer it; Proxy-Wasm's on_request_body).
/// The upstream request is then sent without Content-Length (chunked), since the length may change.
/// </summary>
internal sealed class RequestBodyFilterStream : Stream
{
    private readonly Stream _inner;
    private readonly BodyFilterChain _chain;
    private readonly byte[] _readBuffer = new byte[16 * 1024];
    private ReadOnlyMemory<byte> _pending;
    private bool _done;

    public RequestBodyFilterStream(Stream inner, ProxyContext context, PhasePlan plan)
    {
        _inner = inner;
        _chain = new BodyFilterChain(context, plan.RequestBodyFilters);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_pending.IsEmpty && !_done)
        {
            var read = await _inner.ReadAsync(_readBuffer, cancellationToken);
            var endOfStream = read == 0;
            // the chain may keep the slice (buffering), so hand it a copy
            _pending = await _chain.PushAsync(_readBuffer.AsMemory(0, read).ToArray(), endOfStream);
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
