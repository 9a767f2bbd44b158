using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Gatehouse.Proxy;

/// <summary>
/// One HTTP/2 connection's per-stream byte counts, as nginx keeps <c>$request_length</c> and <c>$bytes_sent</c> on
/// HTTP/2 (ngx_wasm_module's <c>request.total_size</c> and <c>response.total_size</c>): the request's header block as
/// received (the HPACK-compressed fragments of its HEADERS and CONTINUATION frames, without frame headers, padding or
/// priority fields), then its body bytes as the gateway reads them; the response's frames as written (each HEADERS,
/// CONTINUATION and DATA frame of the stream, its 9-byte frame header included). Hosting's frame scanners report the
/// frames; a stream's entry lives from its HEADERS frame to the end of its request.
/// </summary>
internal sealed class Http2StreamSizes
{
    private readonly ConcurrentDictionary<int, Http2StreamBytes> _streams = new();

    public Http2StreamBytes? Of(HttpContext http) =>
        http.Features.Get<IHttp2StreamIdFeature>() is { } id && _streams.TryGetValue(id.StreamId, out var stream) ? stream : null;

    /// <summary>A fragment of a request header block (HEADERS or CONTINUATION) arrived on <paramref name="streamId"/>;
    /// <paramref name="opensStream"/>: the HEADERS frame of a new stream (a later one, e.g. request trailers, only adds
    /// to a stream still known).</summary>
    public void HeaderBlockReceived(int streamId, long bytes, bool opensStream)
    {
        if (opensStream) _streams.GetOrAdd(streamId, static _ => new Http2StreamBytes()).AddHeaderBlock(bytes);
        else if (_streams.TryGetValue(streamId, out var stream)) stream.AddHeaderBlock(bytes);
    }

    /// <summary>A HEADERS, CONTINUATION or DATA frame of <paramref name="streamId"/> was written whole.</summary>
    public void FrameSent(int streamId, long bytes, bool endsStream)
    {
        if (!_streams.TryGetValue(streamId, out var stream)) return;
        stream.AddSent(bytes);
        if (endsStream) Ended(streamId, stream);
    }

    /// <summary>The gateway reset the stream: nothing more is sent on it.</summary>
    public void Reset(int streamId)
    {
        if (_streams.TryGetValue(streamId, out var stream)) Ended(streamId, stream);
    }

    private void Ended(int streamId, Http2StreamBytes stream)
    {
        // a stream Kestrel answered without the application (a malformed request) has no request to remove it
        if (!stream.OutputEnded()) _streams.TryRemove(KeyValuePair.Create(streamId, stream));
    }

    public void Remove(HttpContext http)
    {
        if (http.Features.Get<IHttp2StreamIdFeature>() is { } id) _streams.TryRemove(id.StreamId, out _);
    }
}

/// <summary>One HTTP/2 stream's counts (<see cref="Http2StreamSizes"/>): written by the connection's frame scanners
/// and by the request's body reads, read by the request.</summary>
internal sealed class Http2StreamBytes
{
    private const int StartedFlag = 1, EndedFlag = 2;
    private long _headerBlock, _bodyRead, _sent;
    private int _state; // StartedFlag | EndedFlag, set once each
    private TaskCompletionSource? _written; // made only when someone waits

    /// <summary>nginx's <c>$request_length</c> on HTTP/2: the header block, then the body as read.</summary>
    public long Received => Volatile.Read(ref _headerBlock) + Volatile.Read(ref _bodyRead);

    /// <summary>nginx's <c>$bytes_sent</c> on HTTP/2: the stream's frames written so far.</summary>
    public long Sent => Volatile.Read(ref _sent);

    public void AddHeaderBlock(long bytes) => Interlocked.Add(ref _headerBlock, bytes);

    public void AddSent(long bytes) => Interlocked.Add(ref _sent, bytes);

    public void BodyRead(int bytes) => Interlocked.Add(ref _bodyRead, bytes);

    /// <summary>The application took the request.</summary>
    public void Started() => Interlocked.Or(ref _state, StartedFlag);

    /// <summary>The stream's last frame was written (or the stream reset); answers whether a request had started.</summary>
    public bool OutputEnded()
    {
        var before = Interlocked.Or(ref _state, EndedFlag);
        Volatile.Read(ref _written)?.TrySetResult();
        return (before & StartedFlag) != 0;
    }

    /// <summary>Completes when the stream's last frame has been written to the connection.</summary>
    public Task WrittenAsync()
    {
        if ((Volatile.Read(ref _state) & EndedFlag) != 0) return Task.CompletedTask;
        var made = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var written = Interlocked.CompareExchange(ref _written, made, null) ?? made;
        // the end may have come between the check and the publication: it may not have seen the source
        if ((Volatile.Read(ref _state) & EndedFlag) != 0) written.TrySetResult();
        return written.Task;
    }
}

/// <summary>An HTTP/2 request's body as Kestrel gives it, counting the bytes read (nginx counts an HTTP/2 body in
/// <c>$request_length</c> as it reads it).</summary>
internal sealed class Http2CountingRequestBody(Stream inner, Http2StreamBytes stream) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));

    public override int Read(Span<byte> buffer) => Counted(inner.Read(buffer));

    public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Counted(await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken).ConfigureAwait(false));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var pending = inner.ReadAsync(buffer, cancellationToken);
        return pending.IsCompletedSuccessfully ? new ValueTask<int>(Counted(pending.Result)) : AwaitRead(pending);
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> AwaitRead(ValueTask<int> pending) => Counted(await pending.ConfigureAwait(false));

    private int Counted(int read)
    {
        stream.BodyRead(read);
        return read;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
