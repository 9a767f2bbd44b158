namespace Gatehouse.Proxy.Pipeline;

/// <summary>The body data shown to one body handler (request or response): everything it buffered so far plus the new chunk.</summary>
public sealed class BodyChunk
{
    public ReadOnlyMemory<byte> Data { get; private set; }
    /// <summary>True on the last call for this response (Data may be empty then).</summary>
    public bool EndOfStream { get; }

    public BodyChunk(ReadOnlyMemory<byte> data, bool endOfStream)
    {
        Data = data;
        EndOfStream = endOfStream;
    }

    /// <summary>Replaces what is passed on (with <see cref="BodyOutcome.Continue"/>) or kept (with Buffer).</summary>
    public void Replace(ReadOnlyMemory<byte> data) => Data = data;
}
