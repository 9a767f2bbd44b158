using Gatehouse.Proxy;
using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Gatehouse.Hosting;

/// <summary>An HTTP/1.x connection's input, passed through unchanged, telling its <see cref="ConnectionActivity"/>
/// when bytes arrive (the start of nginx's "reading" phase) and how many Kestrel consumed (the request's bytes, as
/// nginx's <c>$request_length</c>: what arrived but is not consumed yet, e.g. a pipelined next request, is not
/// counted).</summary>
internal sealed class ActivityPipeReader(PipeReader inner, ConnectionActivity activity) : ObservedPipeReader(inner)
{
    protected override void OnRead(in ReadResult result)
    {
        if (!result.Buffer.IsEmpty) activity.BytesReceived();
    }

    protected override void OnConsumed(long bytes) => activity.Consumed(bytes);
}

/// <summary>An HTTP/1.x connection's output, passed through unchanged, counting the bytes Kestrel writes (the
/// response's bytes, as nginx's <c>$bytes_sent</c>).</summary>
internal sealed class CountingPipeWriter(PipeWriter inner, ConnectionActivity activity) : DelegatingPipeWriter(inner)
{
    public override void Advance(int bytes)
    {
        activity.Wrote(bytes);
        Inner.Advance(bytes);
    }

    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        activity.Wrote(source.Length);
        return Inner.WriteAsync(source, cancellationToken);
    }
}

/// <summary>A transport whose input is observed by an <see cref="ActivityPipeReader"/> and whose output is counted by a
/// <see cref="CountingPipeWriter"/>.</summary>
internal sealed class ActivityDuplexPipe : IDuplexPipe
{
    public ActivityDuplexPipe(IDuplexPipe inner, ConnectionActivity activity)
    {
        Input = new ActivityPipeReader(inner.Input, activity);
        Output = new CountingPipeWriter(inner.Output, activity);
        activity.CountWireBytes();
    }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }
}
