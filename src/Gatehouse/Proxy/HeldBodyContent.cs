using System.Net;

namespace Gatehouse.Proxy;

/// <summary>
/// The upstream request content of a body held whole in memory (route.request_buffering, <see cref="SpillBuffer.HeldInMemory"/>),
/// in place of YARP's streaming content: its bytes are written into the connection's buffer right after the headers,
/// so a small body leaves in the same send as its headers. YARP's content flushes the headers first (a send, and a
/// segment for the upstream to wake up for, of their own) and copies the body through a pooled buffer. Framed as
/// before: Content-Length, the held body's length. Each try gets its own content over the same held body.
/// </summary>
internal sealed class HeldBodyContent : HttpContent
{
    private readonly SpillBuffer _body;

    /// <param name="body">the held body</param>
    /// <param name="replaced">the content YARP made for the request: its headers (Content-Type, …) are carried over,
    /// Content-Length is the held body's</param>
    public HeldBodyContent(SpillBuffer body, HttpContent replaced)
    {
        _body = body;
        foreach (var header in replaced.Headers.NonValidated)
        {
            if (string.Equals(header.Key, "Content-Length", StringComparison.OrdinalIgnoreCase)) continue;
            if (header.Value.Count == 1) Headers.TryAddWithoutValidation(header.Key, header.Value.ToString());
            else Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        _body.WriteHeldAsync(stream, cancellationToken).AsTask();

    protected override bool TryComputeLength(out long length)
    {
        length = _body.Length;
        return true;
    }
}
