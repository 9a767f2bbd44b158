using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Gatehouse.Hosting;

/// <summary>A connection's input passed through unchanged, shown to a subclass as it is read (<see cref="OnRead"/>) and
/// as Kestrel consumes it (<see cref="OnConsumed"/>: bytes advanced past; what is only examined is read again). No
/// allocation per read: a read that pends completes through this reader's own reusable value-task source (a
/// PipeReader has at most one read outstanding), not an async state machine (pooled builders miss under load: one
/// box per pending read).</summary>
internal abstract class ObservedPipeReader : PipeReader, IValueTaskSource<ReadResult>
{
    private readonly PipeReader _inner;
    private readonly Action _innerCompleted;
    private ReadOnlySequence<byte> _buffer; // the last read's, until it is advanced past
    private ManualResetValueTaskSourceCore<ReadResult> _pending; // the outstanding read that had to wait
    private ConfiguredValueTaskAwaitable<ReadResult>.ConfiguredValueTaskAwaiter _innerRead;

    protected ObservedPipeReader(PipeReader inner)
    {
        _inner = inner;
        _innerCompleted = InnerReadCompleted;
    }

    protected abstract void OnRead(in ReadResult result);

    protected abstract void OnConsumed(long bytes);

    public sealed override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var pending = _inner.ReadAsync(cancellationToken);
        if (!pending.IsCompleted)
        {
            _pending.Reset();
            _innerRead = pending.ConfigureAwait(false).GetAwaiter();
            _innerRead.UnsafeOnCompleted(_innerCompleted);
            return new ValueTask<ReadResult>(this, _pending.Version);
        }
        if (!pending.IsCompletedSuccessfully) return pending; // failed or canceled: nothing was read
        var result = pending.Result;
        Read(result);
        return new ValueTask<ReadResult>(result);
    }

    private void InnerReadCompleted()
    {
        var read = _innerRead;
        _innerRead = default;
        ReadResult result;
        try
        {
            result = read.GetResult();
            Read(result);
        }
        catch (Exception e)
        {
            _pending.SetException(e);
            return;
        }
        _pending.SetResult(result);
    }

    ReadResult IValueTaskSource<ReadResult>.GetResult(short token) => _pending.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<ReadResult>.GetStatus(short token) => _pending.GetStatus(token);

    void IValueTaskSource<ReadResult>.OnCompleted(Action<object?> continuation, object? state, short token,
        ValueTaskSourceOnCompletedFlags flags) => _pending.OnCompleted(continuation, state, token, flags);

    public sealed override bool TryRead(out ReadResult result)
    {
        if (!_inner.TryRead(out result)) return false;
        Read(result);
        return true;
    }

    private void Read(in ReadResult result)
    {
        _buffer = result.Buffer;
        OnRead(result);
    }

    public sealed override void AdvanceTo(SequencePosition consumed)
    {
        Consumed(consumed);
        _inner.AdvanceTo(consumed);
    }

    public sealed override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        Consumed(consumed);
        _inner.AdvanceTo(consumed, examined);
    }

    private void Consumed(SequencePosition consumed)
    {
        if (!_buffer.IsEmpty) OnConsumed(_buffer.Slice(_buffer.Start, consumed).Length);
        _buffer = default;
    }

    public sealed override void CancelPendingRead() => _inner.CancelPendingRead();

    public sealed override void Complete(Exception? exception = null) => _inner.Complete(exception);

    public sealed override ValueTask CompleteAsync(Exception? exception = null) => _inner.CompleteAsync(exception);
}
