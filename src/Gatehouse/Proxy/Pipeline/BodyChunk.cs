namespace Gatehouse.Proxy.Pipeline;

/// <summary>
/// The body data shown to one body handler (request or response): everything it buffered so far plus the new chunk.
/// <see cref="Data"/> is valid only during the call (the chain reuses its memory): a handler that keeps bytes beyond
/// the call copies them.
/// </summary>
public sealed class BodyChunk
{
    public ReadOnlyMemory<byte> Data { get; private set; }
    /// <summary>True on the last call for this response (Data may be empty then).</summary>
    public bool EndOfStream { get; }

    /// <summary>
    /// How many bytes at the start of <see cref="Data"/> this handler was already shown in its previous call (which
    /// answered <see cref="BodyOutcome.Buffer"/> and kept them unchanged); the rest is new. Lets a handler that
    /// mirrors the body (a Proxy-Wasm buffer) append only the new bytes, so buffering a body costs O(n), not O(n²).
    /// </summary>
    public int Seen { get; }

    /// <summary>True once the handler called <see cref="Replace"/>.</summary>
    public bool Replaced { get; private set; }

    public BodyChunk(ReadOnlyMemory<byte> data, bool endOfStream, int seen = 0)
    {
        Data = data;
        EndOfStream = endOfStream;
        Seen = seen;
    }

    /// <summary>Replaces what is passed on (with <see cref="BodyOutcome.Continue"/>) or kept (with Buffer).</summary>
    public void Replace(ReadOnlyMemory<byte> data)
    {
        Data = data;
        Replaced = true;
    }
}
