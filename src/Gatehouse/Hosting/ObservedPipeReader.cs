using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Gatehouse.Hosting;

/// <summary>A connection's input passed through unchanged, shown to a subclass as it is read (<see cref="OnRead"/>) and
/// as Kestrel consumes it (<see cref="OnConsumed"/>: bytes advanced past; what is only examined is read again). No
/// allocation per read: the await path uses pooled builders.</summary>
internal abstract class ObservedPipeReader(PipeReader inner) : PipeReader
{
    private ReadOnlySequence<byte> _buffer; // the last read's, until it is advanced past

    protected abstract void OnRead(in ReadResult result);

    protected abstract void OnConsumed(long bytes);

    public sealed override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var pending = inner.ReadAsync(cancellationToken);
        if (!pending.IsCompletedSuccessfully) return AwaitRead(pending);
        var result = pending.Result;
        Read(result);
        return new ValueTask<ReadResult>(result);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult> AwaitRead(ValueTask<ReadResult> pending)
    {
        var result = await pending.ConfigureAwait(false);
        Read(result);
        return result;
    }

    public sealed override bool TryRead(out ReadResult result)
    {
        if (!inner.TryRead(out result)) return false;
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
        inner.AdvanceTo(consumed);
    }

    public sealed override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        Consumed(consumed);
        inner.AdvanceTo(consumed, examined);
    }

    private void Consumed(SequencePosition consumed)
    {
        if (!_buffer.IsEmpty) OnConsumed(_buffer.Slice(_buffer.Start, consumed).Length);
        _buffer = default;
    }

    public sealed override void CancelPendingRead() => inner.CancelPendingRead();

    public sealed override void Complete(Exception? exception = null) => inner.Complete(exception);

    public sealed override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
}
