using System.IO.Pipelines;

namespace Gatehouse.Hosting;

/// <summary>A connection's output passed through to the transport's writer, for writers that only look at the bytes
/// going out (<see cref="Advance"/> and <see cref="WriteAsync"/>); flushing and completion are the inner writer's.</summary>
internal abstract class DelegatingPipeWriter(PipeWriter inner) : PipeWriter
{
    protected PipeWriter Inner { get; } = inner;

    public abstract override void Advance(int bytes);

    public abstract override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default);

    public override Memory<byte> GetMemory(int sizeHint = 0) => Inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => Inner.GetSpan(sizeHint);

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => Inner.FlushAsync(cancellationToken);

    public override void CancelPendingFlush() => Inner.CancelPendingFlush();

    public override bool CanGetUnflushedBytes => Inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => Inner.UnflushedBytes;

    public override void Complete(Exception? exception = null) => Inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => Inner.CompleteAsync(exception);
}
