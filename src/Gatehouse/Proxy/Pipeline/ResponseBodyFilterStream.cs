using System.Buffers;

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
    private readonly IReadOnlyList<IResponseBodyHandler> _handlers;
    private readonly ArrayBufferWriter<byte>?[] _buffers;
    private bool _completed;

    public ResponseBodyFilterStream(Stream inner, ProxyContext context, IReadOnlyList<IResponseBodyHandler> handlers)
    {
        _inner = inner;
        _context = context;
        _handlers = handlers;
        _buffers = new ArrayBufferWriter<byte>?[handlers.Count];
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty) return;
        await PushAsync(0, buffer, endOfStream: false, cancellationToken);
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
        await PushAsync(0, ReadOnlyMemory<byte>.Empty, endOfStream: true, cancellationToken);
        await _inner.FlushAsync(cancellationToken);
    }

    private async ValueTask PushAsync(int index, ReadOnlyMemory<byte> data, bool endOfStream, CancellationToken ct)
    {
        for (var i = index; i < _handlers.Count; i++)
        {
            var pending = _buffers[i];
            if (pending is { WrittenCount: > 0 })
            {
                pending.Write(data.Span);
                data = pending.WrittenMemory.ToArray();
                pending.Clear();
            }
            var chunk = new ResponseBodyChunk(data, endOfStream);
            var outcome = await _handlers[i].OnResponseBodyAsync(_context, chunk);
            if (outcome == BodyOutcome.Buffer && !endOfStream)
            {
                (_buffers[i] ??= new ArrayBufferWriter<byte>()).Write(chunk.Data.Span);
                return;
            }
            data = chunk.Data;
            if (data.IsEmpty && !endOfStream) return;
        }
        if (!data.IsEmpty)
        {
            _context.ResponseBodyBytes += data.Length;
            await _inner.WriteAsync(data, ct);
        }
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
