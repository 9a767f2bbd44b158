namespace Gatehouse.Proxy.Pipeline;

/// <summary>
/// Base of the write-only streams the proxy puts in place of <c>HttpResponse.Body</c>: they wrap the client's body
/// stream, forward flushes, and refuse reads and seeks. Subclasses implement the memory-based <c>WriteAsync</c>;
/// the array overloads route to it.
/// </summary>
internal abstract class ResponseBodyStream(Stream inner) : Stream
{
    /// <summary>The client's response body.</summary>
    protected Stream Inner { get; } = inner;

    public abstract override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => Inner.FlushAsync(cancellationToken);
    public override void Flush() => Inner.Flush();
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
