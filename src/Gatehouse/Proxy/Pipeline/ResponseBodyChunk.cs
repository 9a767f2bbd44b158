namespace Gatehouse.Proxy.Pipeline;

/// <summary>The body data shown to one response-body handler: everything it buffered so far plus the new chunk.</summary>
public sealed class ResponseBodyChunk
{
    public ReadOnlyMemory<byte> Data { get; private set; }
    /// <summary>True on the last call for this response (Data may be empty then).</summary>
    public bool EndOfStream { get; }

    public ResponseBodyChunk(ReadOnlyMemory<byte> data, bool endOfStream)
    {
        Data = data;
        EndOfStream = endOfStream;
    }

    /// <summary>Replaces what is passed on (with <see cref="BodyOutcome.Continue"/>) or kept (with Buffer).</summary>
    public void Replace(ReadOnlyMemory<byte> data) => Data = data;
}
