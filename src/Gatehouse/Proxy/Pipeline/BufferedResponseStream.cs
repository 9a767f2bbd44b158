namespace Gatehouse.Proxy.Pipeline;

/// <summary>
/// response_buffering: the upstream is read as fast as it sends, whatever the client's pace (nginx's
/// proxy_buffering). While the client keeps up, a write goes straight to it and nothing is copied; from the first
/// write the client cannot take at once, the bytes go to a <see cref="SpillBuffer"/> (memory, then a temporary
/// file) and a pump sends them on in order, so a slow client no longer holds the upstream connection. Bytes still
/// reach the client as soon as it can take them (nginx would wait for a full buffer).
/// </summary>
/// <remarks>Sits directly on Kestrel's response stream, which copies a write's bytes into its pipe before the flush
/// that may pend; so a pending write can be left to the pump and the caller's buffer reused at once.</remarks>
internal sealed class BufferedResponseStream(Stream inner, string tempDirectory, long fileLimit, CancellationToken aborted)
    : ResponseBodyStream(inner)
{
    private SpillBuffer? _buffer;
    private Task? _pump;

    /// <summary>True once the client fell behind and bytes were held (for tests and the debug log).</summary>
    internal bool Engaged => _pump is not null;

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_pump is not null) return _buffer!.AppendAsync(buffer, cancellationToken);
        var write = Inner.WriteAsync(buffer, cancellationToken);
        if (write.IsCompleted) return write; // done, or failed: the caller sees it
        Engage(write.AsTask());
        return ValueTask.CompletedTask;
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        // the pump writes (and so flushes) every chunk it sends
        if (_pump is not null) return Task.CompletedTask;
        var flush = Inner.FlushAsync(cancellationToken);
        if (flush.IsCompleted) return flush;
        Engage(flush);
        return Task.CompletedTask;
    }

    /// <summary>Waits until every held byte went to the client (before trailers, a local answer or the end of the
    /// response). A client that went away ends the wait with its exception.</summary>
    public async Task DrainAsync()
    {
        if (_pump is null) return;
        var (pump, buffer) = (_pump, _buffer!);
        // later writes (a body handler's end of stream) go straight to the client again
        (_pump, _buffer) = (null, null);
        buffer.Complete();
        try { await pump; }
        finally { await buffer.DisposeAsync(); }
    }

    private void Engage(Task pending)
    {
        _buffer = new SpillBuffer(tempDirectory, fileLimit);
        _pump = PumpAsync(pending, _buffer);
    }

    private async Task PumpAsync(Task pending, SpillBuffer buffer)
    {
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            await pending;
            int n;
            while ((n = await buffer.ReadAsync(chunk, aborted)) > 0) await Inner.WriteAsync(chunk.AsMemory(0, n), aborted);
        }
        catch (Exception e)
        {
            buffer.Fail(e);
            throw;
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(chunk); }
    }
}
