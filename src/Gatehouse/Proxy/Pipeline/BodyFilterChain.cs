using System.Buffers;

namespace Gatehouse.Proxy.Pipeline;

/// <summary>
/// Runs body chunks through an ordered list of body filters for one request: each filter sees its own buffered data
/// plus the new chunk, may replace it, and either passes it on or keeps buffering (until end of stream). Shared by
/// the request-body and response-body streams.
/// </summary>
internal sealed class BodyFilterChain
{
    private readonly ProxyContext _context;
    private readonly IReadOnlyList<Func<ProxyContext, BodyChunk, ValueTask<BodyOutcome>>> _filters;
    private readonly ArrayBufferWriter<byte>?[] _buffers;

    public BodyFilterChain(ProxyContext context, IReadOnlyList<Func<ProxyContext, BodyChunk, ValueTask<BodyOutcome>>> filters)
    {
        _context = context;
        _filters = filters;
        _buffers = new ArrayBufferWriter<byte>?[filters.Count];
    }

    /// <summary>Pushes one chunk (or the end of stream) through; returns what leaves the last filter (maybe empty).</summary>
    public async ValueTask<ReadOnlyMemory<byte>> PushAsync(ReadOnlyMemory<byte> data, bool endOfStream)
    {
        for (var i = 0; i < _filters.Count; i++)
        {
            var pending = _buffers[i];
            if (pending is { WrittenCount: > 0 })
            {
                pending.Write(data.Span);
                data = pending.WrittenMemory.ToArray();
                pending.Clear();
            }
            var chunk = new BodyChunk(data, endOfStream);
            var outcome = await _filters[i](_context, chunk);
            if (outcome == BodyOutcome.Buffer && !endOfStream)
            {
                (_buffers[i] ??= new ArrayBufferWriter<byte>()).Write(chunk.Data.Span);
                return ReadOnlyMemory<byte>.Empty;
            }
            data = chunk.Data;
            if (data.IsEmpty && !endOfStream) return data;
        }
        return data;
    }
}
