using Gatehouse.Proxy;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Gatehouse.Hosting;

/// <summary>An HTTP/1.x connection's input, passed through unchanged, telling its <see cref="ConnectionActivity"/>
/// when bytes arrive (the start of nginx's "reading" phase). No allocation per read: the await path uses pooled
/// builders.</summary>
internal sealed class ActivityPipeReader(PipeReader inner, ConnectionActivity activity) : PipeReader
{
    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var pending = inner.ReadAsync(cancellationToken);
        if (!pending.IsCompletedSuccessfully) return AwaitRead(pending);
        var result = pending.Result;
        Note(result);
        return new ValueTask<ReadResult>(result);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult> AwaitRead(ValueTask<ReadResult> pending)
    {
        var result = await pending.ConfigureAwait(false);
        Note(result);
        return result;
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!inner.TryRead(out result)) return false;
        Note(result);
        return true;
    }

    private void Note(in ReadResult result)
    {
        if (!result.Buffer.IsEmpty) activity.BytesReceived();
    }

    public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
}

/// <summary>A transport whose input is observed by an <see cref="ActivityPipeReader"/>.</summary>
internal sealed class ActivityDuplexPipe(IDuplexPipe inner, ConnectionActivity activity) : IDuplexPipe
{
    public PipeReader Input { get; } = new ActivityPipeReader(inner.Input, activity);

    public PipeWriter Output => inner.Output;
}
