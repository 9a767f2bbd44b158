namespace Gatehouse.Proxy.Pipeline;

/// <summary>Counts response body bytes for the access log when no body handler already does.</summary>
internal sealed class CountingStream(Stream inner, ProxyContext context) : ResponseBodyStream(inner)
{
    // no async state machine: this wraps every proxied response while the access log is on
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        context.ResponseBodyBytes += buffer.Length;
        return Inner.WriteAsync(buffer, cancellationToken);
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        context.ResponseBodyBytes += count;
        Inner.Write(buffer, offset, count);
    }
}
