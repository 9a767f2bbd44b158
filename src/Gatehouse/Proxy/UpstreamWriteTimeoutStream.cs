namespace Gatehouse.Proxy;

/// <summary>
/// The upstream connection as SocketsHttpHandler sees it: a pass-through over the socket's stream that enforces the
/// service's <c>write_timeout</c> (Kong: the time allowed for one write to the upstream) on every write. A write
/// that does not complete in time aborts the connection (the socket is closed under it, as nginx closes it) and fails
/// with a <see cref="TimeoutException"/>, which the proxy answers with Kong's 504.
/// <para>The deadline costs a write two field writes, no timer call: each write stamps its start, and one timer per
/// connection, armed by the first write after an idle spell, checks the write in progress when it fires — past its
/// deadline it aborts, short of it the timer is set for the rest, with no write it stays off until the next one.</para>
/// <para>A new connection that the upstream closes before sending a single byte is an error here, not an end of
/// stream: SocketsHttpHandler would take that end for a keep-alive connection closed while idle and silently send a
/// body-less request again, up to 3 more times, on the same address. nginx counts it as a failed try, and retries it
/// on the next peer only as service.retries and <see cref="NextUpstream"/> allow. A connection that has answered
/// before keeps the handler's retry (nginx does not count a failure on a cached connection as a try either).</para>
/// </summary>
internal sealed class UpstreamWriteTimeoutStream(Stream inner, TimeSpan writeTimeout) : Stream
{
    private readonly Lock _gate = new();
    private Timer? _timer;
    private bool _disposed;
    // the start (Stopwatch timestamp) of the write in progress, 0 between writes; 1 while the timer is set
    private long _writeStarted;
    private int _armed;
    private volatile bool _timedOut;
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

    /// <summary>A write the socket takes at once (the usual case) completes here, with no state machine.</summary>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
    {
        WriteStarting();
        ValueTask write;
        try
        {
            write = inner.WriteAsync(buffer, ct);
        }
        catch (Exception e) when (_timedOut && e is not OperationCanceledException)
        {
            WriteEnded();
            throw TimedOut(e);
        }
        catch
        {
            WriteEnded();
            throw;
        }
        if (!write.IsCompletedSuccessfully) return AwaitWriteAsync(write);
        write.GetAwaiter().GetResult();
        WriteEnded();
        return ValueTask.CompletedTask;
    }

    private async ValueTask AwaitWriteAsync(ValueTask write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        // the caller's token (request aborted) cancels as before; anything else after the abort is the timeout
        catch (Exception e) when (_timedOut && e is not OperationCanceledException)
        {
            throw TimedOut(e);
        }
        finally { WriteEnded(); }
    }

    private TimeoutException TimedOut(Exception inner) =>
        new($"write to the upstream timed out after {writeTimeout.TotalMilliseconds} ms", inner);

    private void WriteStarting()
    {
        if (writeTimeout == Timeout.InfiniteTimeSpan) return;
        // a full fence between the stamp and the look at _armed (the timer does the opposite in OnTimer): at least one
        // of the two sees the other, so a write never starts unwatched
        Interlocked.Exchange(ref _writeStarted, System.Diagnostics.Stopwatch.GetTimestamp());
        if (Volatile.Read(ref _armed) == 0) Arm(writeTimeout);
    }

    private void WriteEnded() => Volatile.Write(ref _writeStarted, 0);

    private void Arm(TimeSpan due)
    {
        lock (_gate)
        {
            if (_disposed || Volatile.Read(ref _armed) == 1) return;
            Volatile.Write(ref _armed, 1);
            _timer ??= NewTimer();
            _timer.Change(due, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Made by the connection's first write, without its request's execution context (the timer outlives
    /// the request; the AsyncLocals of a request, its Activity, are not kept with the connection).</summary>
    private Timer NewTimer()
    {
        using (ExecutionContext.SuppressFlow())
            return new Timer(static s => ((UpstreamWriteTimeoutStream)s!).OnTimer(), this, Timeout.Infinite, Timeout.Infinite);
    }

    private void OnTimer()
    {
        Interlocked.Exchange(ref _armed, 0);
        var started = Volatile.Read(ref _writeStarted);
        if (started == 0) return; // idle: the next write sets the timer again
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        if (elapsed < writeTimeout)
        {
            Arm(writeTimeout - elapsed);
            return;
        }
        _timedOut = true;
        inner.Dispose(); // the pending write fails at once; the connection is not reused
    }

    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    private void StopTimer()
    {
        lock (_gate)
        {
            _disposed = true;
            _timer?.Dispose();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            StopTimer();
            inner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        StopTimer();
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
