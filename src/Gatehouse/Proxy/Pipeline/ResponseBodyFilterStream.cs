namespace Gatehouse.Proxy.Pipeline;

/// <summary>
/// Write-only stream put in place of <c>HttpResponse.Body</c> when a plan has response-body handlers: every write
/// flows through the handlers in order (each may replace or buffer), and what the last one passes on reaches the
/// client. <see cref="CompleteAsync"/> delivers the end-of-stream call and flushes what is still buffered.
/// </summary>
internal sealed class ResponseBodyFilterStream : Stream
{
    private readonly Stream _inner;
    private readonly ProxyContext _context;
    private readonly BodyFilterChain _chain;
    private bool _completed;

    public ResponseBodyFilterStream(Stream inner, ProxyContext context, PhasePlan plan)
    {
        _inner = inner;
        _context = context;
        _chain = new BodyFilterChain(context, plan.ResponseBodyFilters);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty) return;
        await EmitAsync(await _chain.PushAsync(buffer, endOfStream: false), cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <summary>Sends the end-of-stream call through every handler and writes what remains.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (_completed) return;
        _completed = true;
        await EmitAsync(await _chain.PushAsync(ReadOnlyMemory<byte>.Empty, endOfStream: true), cancellationToken);
        await _inner.FlushAsync(cancellationToken);
    }

    private async ValueTask EmitAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        if (data.IsEmpty) return;
        _context.ResponseBodyBytes += data.Length;
        await _inner.WriteAsync(data, ct);
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);
    public override void Flush() => _inner.Flush();
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
