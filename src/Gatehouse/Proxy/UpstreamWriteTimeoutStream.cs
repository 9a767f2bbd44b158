namespace Gatehouse.Proxy;

/// <summary>
/// The upstream connection as SocketsHttpHandler sees it: a pass-through over the socket's stream that enforces the
/// service's <c>write_timeout</c> (Kong: the time allowed for one write to the upstream) on every write. A write
/// that does not complete in time aborts the connection with a <see cref="TimeoutException"/>, which the proxy
/// answers with Kong's 504. One reusable timer source per connection: no allocation per write on the steady path.
/// <para>A new connection that the upstream closes before sending a single byte is an error here, not an end of
/// stream: SocketsHttpHandler would take that end for a keep-alive connection closed while idle and silently send a
/// body-less request again, up to 3 more times, on the same address. nginx counts it as a failed try, and retries it
/// on the next peer only as service.retries and <see cref="NextUpstream"/> allow. A connection that has answered
/// before keeps the handler's retry (nginx does not count a failure on a cached connection as a try either).</para>
/// </summary>
internal sealed class UpstreamWriteTimeoutStream(Stream inner, TimeSpan writeTimeout) : Stream
{
    private CancellationTokenSource _timer = new();
    private bool _answered;

    public override bool CanRead => inner.CanRead;
    public override bool CanSeek => false;
    public override bool CanWrite => inner.CanWrite;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
    public override int Read(Span<byte> buffer) => _answered ? inner.Read(buffer) : Received(inner.Read(buffer), buffer.Length);
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    // once the upstream has sent a byte, reads pass straight through (no state machine on the steady path)
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) =>
        _answered ? inner.ReadAsync(buffer, ct) : FirstReadAsync(buffer, ct);

    private async ValueTask<int> FirstReadAsync(Memory<byte> buffer, CancellationToken ct) =>
        Received(await inner.ReadAsync(buffer, ct).ConfigureAwait(false), buffer.Length);

    private int Received(int read, int asked)
    {
        if (read > 0) _answered = true;
        else if (!_answered && asked > 0) throw new IOException("the upstream closed the connection without sending a response");
        return read;
    }

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override void Write(ReadOnlySpan<byte> buffer) => WriteAsync(buffer.ToArray()).AsTask().GetAwaiter().GetResult();
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
    {
        var timer = _timer;
        // The caller's token (request aborted) cancels the write too; registration nodes are pooled by the runtime.
        using var link = ct.CanBeCanceled ? ct.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timer) : default;
        timer.CancelAfter(writeTimeout);
        try
        {
            await inner.WriteAsync(buffer, timer.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"write to the upstream timed out after {writeTimeout.TotalMilliseconds} ms");
        }
        if (!timer.TryReset())
        {
            // fired (or was cancelled) just as the write finished: start a fresh source for the next write
            _timer = new CancellationTokenSource();
            timer.Dispose();
        }
    }

    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            _timer.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        _timer.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
