using System.Buffers;

namespace Gatehouse.Proxy.Pipeline;

/// <summary>
/// Runs body chunks through an ordered list of body filters for one request: each filter sees its own buffered data
/// plus the new chunk, may replace it, and either passes it on or keeps buffering (until end of stream). Shared by
/// the request-body and response-body streams.
/// Buffering is O(n): a filter that buffers has one growable buffer (doubling, <see cref="ArrayBufferWriter{T}"/>)
/// to which each new chunk is appended once; it is shown as one span over that buffer (no copy of what came before),
/// with <see cref="BodyChunk.Seen"/> telling the filter which part is new. Only a filter that replaces its buffered
/// data pays for copying it.
/// </summary>
internal sealed class BodyFilterChain
{
    private readonly ProxyContext _context;
    private readonly IReadOnlyList<Func<ProxyContext, BodyChunk, ValueTask<BodyOutcome>>> _filters;
    // one per filter, created when a filter first buffers (most requests never do)
    private ArrayBufferWriter<byte>?[]? _buffers;
    private readonly IReadOnlyList<IPhaseHandler> _handlers;
    private readonly string _phase;

    /// <param name="handlers">the handlers behind <paramref name="filters"/>, same order (for request debugging)</param>
    /// <param name="phase">the span name of request debugging: Kong's <c>body_filter</c>, or ours <c>request_body</c></param>
    public BodyFilterChain(ProxyContext context, IReadOnlyList<Func<ProxyContext, BodyChunk, ValueTask<BodyOutcome>>> filters,
        IReadOnlyList<IPhaseHandler> handlers, string phase)
    {
        _context = context;
        _filters = filters;
        _handlers = handlers;
        _phase = phase;
    }

    /// <summary>
    /// Pushes one chunk (or the end of stream) through; returns what leaves the last filter (maybe empty). The result
    /// may share memory with <paramref name="data"/> or with a filter's buffer: consume it before the next push.
    /// </summary>
    public ValueTask<ReadOnlyMemory<byte>> PushAsync(ReadOnlyMemory<byte> data, bool endOfStream) =>
        _context.Debug is { } debug ? TimedPushAsync(debug, data, endOfStream) : Run(data, endOfStream);

    private async ValueTask<ReadOnlyMemory<byte>> TimedPushAsync(RequestDebugTrace debug, ReadOnlyMemory<byte> data, bool endOfStream)
    {
        debug.Enter(_phase);
        try
        {
            for (var i = 0; i < _filters.Count; i++)
            {
                var chunk = Show(i, data, endOfStream);
                BodyOutcome outcome;
                var opened = debug.EnterHandler(_handlers[i], _phase, _context);
                try { outcome = await _filters[i](_context, chunk); }
                finally { debug.LeaveHandler(opened); }
                if (!PassOn(i, chunk, outcome, ref data)) return data;
            }
            return data;
        }
        finally { debug.Leave(); }
    }

    /// <summary>Synchronous while every filter answers at once (a guest call that ran now); awaits from the first
    /// that did not.</summary>
    private ValueTask<ReadOnlyMemory<byte>> Run(ReadOnlyMemory<byte> data, bool endOfStream)
    {
        for (var i = 0; i < _filters.Count; i++)
        {
            var chunk = Show(i, data, endOfStream);
            var step = _filters[i](_context, chunk);
            if (!step.IsCompletedSuccessfully) return RunFromAsync(i, chunk, step);
            if (!PassOn(i, chunk, step.Result, ref data)) return new(data);
        }
        return new(data);
    }

    private async ValueTask<ReadOnlyMemory<byte>> RunFromAsync(int from, BodyChunk chunk, ValueTask<BodyOutcome> step)
    {
        var data = ReadOnlyMemory<byte>.Empty;
        if (!PassOn(from, chunk, await step, ref data)) return data;
        for (var i = from + 1; i < _filters.Count; i++)
        {
            chunk = Show(i, data, chunk.EndOfStream);
            if (!PassOn(i, chunk, await _filters[i](_context, chunk), ref data)) return data;
        }
        return data;
    }

    /// <summary>The chunk filter <paramref name="i"/> is shown: what it buffered so far plus <paramref name="data"/>.</summary>
    private BodyChunk Show(int i, ReadOnlyMemory<byte> data, bool endOfStream)
    {
        var buffered = _buffers?[i];
        var seen = buffered?.WrittenCount ?? 0;
        if (buffered is not null && seen > 0)
        {
            buffered.Write(data.Span);
            data = buffered.WrittenMemory;
        }
        return new BodyChunk(data, endOfStream, seen);
    }

    /// <summary>Applies filter <paramref name="i"/>'s outcome; <paramref name="data"/> becomes what it passes on. False
    /// when nothing goes on to the next filter (it buffers, or passed on nothing before the end of stream).</summary>
    private bool PassOn(int i, BodyChunk chunk, BodyOutcome outcome, ref ReadOnlyMemory<byte> data)
    {
        var buffered = _buffers?[i];
        if (outcome == BodyOutcome.Buffer && !chunk.EndOfStream)
        {
            _buffers ??= new ArrayBufferWriter<byte>?[_filters.Count];
            buffered = _buffers[i] ??= new ArrayBufferWriter<byte>();
            if (chunk.Replaced)
            {
                // the filter keeps something else: its buffer becomes that (overlapping copies are memmove-safe)
                buffered.ResetWrittenCount();
                buffered.Write(chunk.Data.Span);
            }
            else if (chunk.Seen == 0)
            {
                buffered.Write(chunk.Data.Span); // first buffered chunk: the caller's memory is not ours to keep
            }
            data = ReadOnlyMemory<byte>.Empty;
            return false;
        }
        // passed on: the buffer is free again (not cleared: the bytes passed on may still be read from it)
        buffered?.ResetWrittenCount();
        data = chunk.Data;
        return !(data.IsEmpty && !chunk.EndOfStream);
    }
}
