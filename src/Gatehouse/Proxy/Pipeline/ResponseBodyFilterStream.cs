namespace Gatehouse.Proxy.Pipeline;

/// <summary>
/// Write-only stream put in place of <c>HttpResponse.Body</c> when a plan has response-body handlers: every write
/// flows through the handlers in order (each may replace or buffer), and what the last one passes on reaches the
/// client. <see cref="CompleteAsync"/> delivers the end-of-stream call and flushes what is still buffered.
/// </summary>
internal sealed class ResponseBodyFilterStream : ResponseBodyStream
{
    private readonly ProxyContext _context;
    private readonly BodyFilterChain _chain;
    private bool _completed;

    public ResponseBodyFilterStream(Stream inner, ProxyContext context, PhasePlan plan) : base(inner)
    {
        _context = context;
        _chain = new BodyFilterChain(context, plan.ResponseBodyFilters);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty) return;
        await EmitAsync(await _chain.PushAsync(buffer, endOfStream: false), cancellationToken);
    }

    /// <summary>Sends the end-of-stream call through every handler and writes what remains.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (_completed) return;
        _completed = true;
        await EmitAsync(await _chain.PushAsync(ReadOnlyMemory<byte>.Empty, endOfStream: true), cancellationToken);
        await Inner.FlushAsync(cancellationToken);
    }

    private async ValueTask EmitAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        if (data.IsEmpty) return;
        _context.ResponseBodyBytes += data.Length;
        await Inner.WriteAsync(data, ct);
    }
}
