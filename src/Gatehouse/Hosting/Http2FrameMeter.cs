using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Gatehouse.Proxy;

namespace Gatehouse.Hosting;

/// <summary>
/// Reads the frame headers of one direction of an HTTP/2 connection as the bytes pass (payloads are skipped, not
/// copied) and reports to the connection's <see cref="Http2StreamSizes"/>: inbound, each request header block fragment
/// (a HEADERS frame's payload less its pad length byte, padding and priority fields; a CONTINUATION's payload);
/// outbound, each HEADERS, CONTINUATION and DATA frame of a stream (9 + its length), the frame that ends the stream, and
/// RST_STREAM. Bytes are fed in order, each once; a frame may be split anywhere between feeds.
/// </summary>
internal sealed class Http2FrameScanner(Http2StreamSizes sizes, bool inbound)
{
    private const int FrameHeaderLength = 9, PrefaceLength = 24;
    private const byte Data = 0x0, Headers = 0x1, RstStream = 0x3, Continuation = 0x9;
    private const byte EndStream = 0x1, EndHeaders = 0x4, Padded = 0x8, Priority = 0x20;
    private int _prefaceLeft = inbound ? PrefaceLength : 0; // the client's connection preface precedes its frames
    private readonly byte[] _header = new byte[FrameHeaderLength];
    private int _headerHave;
    private long _payloadLeft;
    private int _streamId;
    private long _fragment = -1; // inbound padded HEADERS: its fragment less the padding, known from the first payload byte
    private int _endsWithHeaders; // outbound: the stream whose HEADERS had END_STREAM and awaits its END_HEADERS
    private int _lastOpened; // inbound: the highest stream a HEADERS frame opened (client stream ids only grow)
    private bool _opens; // inbound: the current HEADERS frame opens its stream

    public void Scan(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_prefaceLeft > 0)
            {
                var skip = Math.Min(_prefaceLeft, data.Length);
                _prefaceLeft -= skip;
                data = data[skip..];
                continue;
            }
            if (_payloadLeft > 0)
            {
                if (_fragment >= 0)
                {
                    sizes.HeaderBlockReceived(_streamId, Math.Max(0, _fragment - data[0]), _opens);
                    _fragment = -1;
                }
                var skip = (int)Math.Min(_payloadLeft, data.Length);
                _payloadLeft -= skip;
                data = data[skip..];
                continue;
            }
            var take = Math.Min(FrameHeaderLength - _headerHave, data.Length);
            data[..take].CopyTo(_header.AsSpan(_headerHave));
            _headerHave += take;
            data = data[take..];
            if (_headerHave < FrameHeaderLength) return;
            _headerHave = 0;
            Frame();
        }
    }

    private void Frame()
    {
        var length = (_header[0] << 16) | (_header[1] << 8) | _header[2];
        var type = _header[3];
        var flags = _header[4];
        _streamId = (int)(BinaryPrimitives.ReadUInt32BigEndian(_header.AsSpan(5)) & 0x7fffffff);
        _payloadLeft = length;
        if (_streamId == 0) return;
        if (inbound)
        {
            if (type == Continuation) sizes.HeaderBlockReceived(_streamId, length, opensStream: false);
            if (type != Headers) return;
            _opens = _streamId > _lastOpened;
            if (_opens) _lastOpened = _streamId;
            long fragment = length - ((flags & Priority) != 0 ? 5 : 0);
            if ((flags & Padded) != 0 && length > 0) _fragment = fragment - 1; // less the padding, read next
            else sizes.HeaderBlockReceived(_streamId, Math.Max(0, fragment), _opens);
            return;
        }
        switch (type)
        {
            case Data:
                sizes.FrameSent(_streamId, FrameHeaderLength + length, (flags & EndStream) != 0);
                break;
            case Headers:
                var ends = (flags & EndStream) != 0;
                if (ends && (flags & EndHeaders) == 0) _endsWithHeaders = _streamId;
                sizes.FrameSent(_streamId, FrameHeaderLength + length, ends && (flags & EndHeaders) != 0);
                break;
            case Continuation:
                var last = (flags & EndHeaders) != 0 && _endsWithHeaders == _streamId;
                if (last) _endsWithHeaders = 0;
                sizes.FrameSent(_streamId, FrameHeaderLength + length, last);
                break;
            case RstStream:
                sizes.Reset(_streamId);
                break;
        }
    }
}

/// <summary>An HTTP/2 connection's input, passed through unchanged, scanned as it is read (before Kestrel handles a
/// frame, so a request's header block is counted before the request starts). Each byte is scanned once: Kestrel
/// reads again what it did not consume.</summary>
internal sealed class Http2ScanningPipeReader(PipeReader inner, Http2FrameScanner scanner) : ObservedPipeReader(inner)
{
    private long _consumed, _scanned; // offsets in the connection's input

    protected override void OnRead(in ReadResult result)
    {
        var buffer = result.Buffer;
        var seen = _scanned - _consumed;
        if (buffer.Length <= seen) return;
        foreach (var segment in buffer.Slice(seen)) scanner.Scan(segment.Span);
        _scanned = _consumed + buffer.Length;
    }

    protected override void OnConsumed(long bytes) => _consumed += bytes;
}

/// <summary>An HTTP/2 connection's output, passed through unchanged, scanned as Kestrel writes it. Kestrel may advance
/// through one buffer in several steps, so the buffer last given is tracked past each advance.</summary>
internal sealed class Http2ScanningPipeWriter(PipeWriter inner, Http2FrameScanner scanner) : DelegatingPipeWriter(inner)
{
    private Memory<byte> _memory;

    public override void Advance(int bytes)
    {
        scanner.Scan(_memory.Span[..bytes]);
        _memory = _memory[bytes..];
        Inner.Advance(bytes);
    }

    public override Memory<byte> GetMemory(int sizeHint = 0) => _memory = Inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => (_memory = Inner.GetMemory(sizeHint)).Span;

    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        scanner.Scan(source.Span);
        return Inner.WriteAsync(source, cancellationToken);
    }
}

/// <summary>An HTTP/2 proxy connection's transport, both directions scanned into its <see cref="Http2StreamSizes"/>.</summary>
internal sealed class Http2MeteredDuplexPipe : IDuplexPipe
{
    public Http2MeteredDuplexPipe(IDuplexPipe inner, Http2StreamSizes sizes)
    {
        Input = new Http2ScanningPipeReader(inner.Input, new Http2FrameScanner(sizes, inbound: true));
        Output = new Http2ScanningPipeWriter(inner.Output, new Http2FrameScanner(sizes, inbound: false));
    }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }
}
