using System.Buffers;
using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ProxyFloor;

/// <summary>
/// EXPERIMENT, not product code: the least an HTTP/1.1 upstream client must do to forward the benchmark's GET, to
/// measure what SocketsHttpHandler + YARP cost above it (bench/NOTES.md, "proxy floor"). Pooled keep-alive sockets,
/// one send of the request head, receives into a per-connection buffer, the response head parsed in place and copied
/// to Kestrel's response, the body written to Kestrel's pipe (one write of head + body when the app returns).
/// Covers: GET without a body, responses with a Content-Length. Does NOT cover (the request fails with 501/502):
/// request bodies, chunked or close-delimited responses, 1xx, 204/304/HEAD, pipelining; and has no timeouts, no
/// client-abort propagation, no pool limit beyond an idle cap, and only one retry (a reused connection the upstream
/// closed before answering).
/// </summary>
internal sealed class LeanUpstream
{
    private const int MaxIdle = 1024;
    private readonly IPEndPoint _endPoint;
    private readonly byte[] _hostLine;
    private readonly Lock _gate = new();
    private readonly Stack<LeanConnection> _idle = new();

    public LeanUpstream(IPEndPoint endPoint)
    {
        _endPoint = endPoint;
        _hostLine = Encoding.ASCII.GetBytes($"Host: {endPoint}\r\n");
    }

    public async Task ForwardAsync(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsGet(request.Method) || request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            context.Response.StatusCode = StatusCodes.Status501NotImplemented;
            return;
        }
        for (var attempt = 0; ; attempt++)
        {
            var connection = Rent();
            var reused = connection is not null;
            connection ??= await ConnectAsync();
            Outcome outcome;
            try
            {
                outcome = await ExchangeAsync(context, connection);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                outcome = context.Response.HasStarted ? Outcome.Failed : Outcome.Stale;
            }
            if (outcome == Outcome.Done)
            {
                Return(connection);
                return;
            }
            connection.Dispose();
            if (outcome == Outcome.DoneClose) return;
            if (outcome == Outcome.Stale && reused && attempt == 0) continue;
            if (context.Response.HasStarted) context.Abort();
            else context.Response.StatusCode = StatusCodes.Status502BadGateway;
            return;
        }
    }

    // pooled state machine: a request that waits for the upstream would otherwise allocate one per exchange
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Outcome> ExchangeAsync(HttpContext context, LeanConnection c)
    {
        var headLength = WriteRequestHead(context, c.SendBuffer);
        if (headLength < 0) return Outcome.Failed;
        await c.Socket.SendAsync(c.SendBuffer.AsMemory(0, headLength), SocketFlags.None);
        var buffer = c.ReceiveBuffer;
        int received = 0, headEnd;
        while (true)
        {
            var n = await c.Socket.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None);
            if (n == 0) return received == 0 ? Outcome.Stale : Outcome.Failed;
            var from = Math.Max(0, received - 3);
            received += n;
            var at = buffer.AsSpan(from, received - from).IndexOf("\r\n\r\n"u8);
            if (at >= 0)
            {
                headEnd = from + at + 4;
                break;
            }
            if (received == buffer.Length) return Outcome.Failed;
        }
        if (!ApplyHead(context.Response, c, buffer.AsSpan(0, headEnd), out var remaining, out var close)) return Outcome.Failed;
        var inBuffer = received - headEnd;
        if (inBuffer > remaining) return Outcome.Failed; // bytes after the body: not HTTP/1.1 we understand
        var writer = context.Response.BodyWriter;
        if (inBuffer > 0)
        {
            writer.Write(buffer.AsSpan(headEnd, inBuffer));
            remaining -= inBuffer;
        }
        while (remaining > 0)
        {
            var n = await c.Socket.ReceiveAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), SocketFlags.None);
            if (n == 0) return Outcome.Failed;
            writer.Write(buffer.AsSpan(0, n));
            remaining -= n;
            await writer.FlushAsync();
        }
        return close ? Outcome.DoneClose : Outcome.Done;
    }

    /// <summary>The request line and the client's headers (hop-by-hop ones dropped, Host replaced by the upstream's),
    /// Latin-1 as received; -1 when they do not fit the send buffer.</summary>
    private int WriteRequestHead(HttpContext context, byte[] destination)
    {
        var w = new HeadWriter(destination);
        w.Add("GET "u8);
        w.Add(context.Features.Get<IHttpRequestFeature>()!.RawTarget);
        w.Add(" HTTP/1.1\r\n"u8);
        w.Add(_hostLine);
        foreach (var header in context.Request.Headers)
        {
            if (IsHopByHop(header.Key) || header.Key.Equals("Host", StringComparison.OrdinalIgnoreCase)) continue;
            foreach (var value in header.Value)
            {
                w.Add(header.Key);
                w.Add(": "u8);
                w.Add(value);
                w.Add("\r\n"u8);
            }
        }
        w.Add("\r\n"u8);
        return w.Length;
    }

    private static bool IsHopByHop(string name) =>
        name.Equals("Connection", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Proxy-Connection", StringComparison.OrdinalIgnoreCase)
        || name.Equals("TE", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Trailer", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase);

    /// <summary>Status and headers onto Kestrel's response; false for what this experiment does not cover.</summary>
    private static bool ApplyHead(HttpResponse response, LeanConnection c, ReadOnlySpan<byte> head, out long contentLength, out bool close)
    {
        contentLength = -1;
        close = false;
        var eol = head.IndexOf("\r\n"u8);
        var statusLine = head[..eol];
        if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1."u8) || statusLine[8] != (byte)' ') return false;
        var code = (statusLine[9] - '0') * 100 + (statusLine[10] - '0') * 10 + (statusLine[11] - '0');
        if (code is < 200 or > 599 or 204 or 304) return false;
        close = statusLine[7] == (byte)'0'; // HTTP/1.0: close unless keep-alive, which this experiment does not honour
        response.StatusCode = code;
        var rest = head[(eol + 2)..];
        var slot = 0;
        while ((eol = rest.IndexOf("\r\n"u8)) > 0)
        {
            var line = rest[..eol];
            rest = rest[(eol + 2)..];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0) return false;
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim((byte)' ');
            if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                if (contentLength >= 0 || !Utf8Parser.TryParse(value, out long length, out var used) || used != value.Length || length < 0) return false;
                contentLength = length;
            }
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8)) return false;
            else if (Ascii.EqualsIgnoreCase(name, "Connection"u8)) close |= value.IndexOf("close"u8) >= 0;
            else if (!Ascii.EqualsIgnoreCase(name, "Keep-Alive"u8) && !Ascii.EqualsIgnoreCase(name, "Proxy-Connection"u8)
                     && !Ascii.EqualsIgnoreCase(name, "Upgrade"u8) && !Ascii.EqualsIgnoreCase(name, "Trailer"u8))
            {
                var (n, v) = c.HeaderStrings.Get(slot++, name, value);
                response.Headers.Append(n, v);
            }
        }
        if (contentLength < 0) return false; // close-delimited: not covered
        response.ContentLength = contentLength;
        return true;
    }

    private LeanConnection? Rent()
    {
        lock (_gate) return _idle.TryPop(out var c) ? c : null;
    }

    private void Return(LeanConnection connection)
    {
        lock (_gate)
        {
            if (_idle.Count < MaxIdle)
            {
                _idle.Push(connection);
                return;
            }
        }
        connection.Dispose();
    }

    private async ValueTask<LeanConnection> ConnectAsync()
    {
        var socket = new Socket(_endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(_endPoint);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new LeanConnection(socket);
    }

    private enum Outcome
    {
        Done,
        DoneClose,
        /// <summary>The connection ended before any byte of the response: retried once when it was a reused one.</summary>
        Stale,
        Failed,
    }

    /// <summary>Appends to a fixed buffer; Length is -1 once anything did not fit.</summary>
    private ref struct HeadWriter(byte[] buffer)
    {
        private int _length;

        public readonly int Length => _length;

        public void Add(ReadOnlySpan<byte> bytes)
        {
            if (_length < 0) return;
            if (bytes.Length > buffer.Length - _length)
            {
                _length = -1;
                return;
            }
            bytes.CopyTo(buffer.AsSpan(_length));
            _length += bytes.Length;
        }

        public void Add(string? text)
        {
            if (_length < 0 || text is null) return;
            if (text.Length > buffer.Length - _length)
            {
                _length = -1;
                return;
            }
            _length += Encoding.Latin1.GetBytes(text, buffer.AsSpan(_length));
        }
    }
}

/// <summary>One pooled upstream connection: its socket, a send buffer for the request head, a receive buffer for the
/// response, and the strings of the last response's headers (an upstream repeats them, so they are decoded once).</summary>
internal sealed class LeanConnection(Socket socket) : IDisposable
{
    public Socket Socket { get; } = socket;
    public byte[] SendBuffer { get; } = GC.AllocateUninitializedArray<byte>(4096, pinned: true);
    public byte[] ReceiveBuffer { get; } = GC.AllocateUninitializedArray<byte>(16384, pinned: true);
    public HeaderStringCache HeaderStrings { get; } = new();

    public void Dispose() => Socket.Dispose();
}

/// <summary>Header name and value strings by position in the response head: reused while the bytes are the same
/// (SocketsHttpHandler has a similar cache for a few known headers' values).</summary>
internal sealed class HeaderStringCache
{
    private const int Slots = 16;
    private readonly byte[]?[] _nameBytes = new byte[Slots][];
    private readonly string[] _names = new string[Slots];
    private readonly byte[]?[] _valueBytes = new byte[Slots][];
    private readonly string[] _values = new string[Slots];

    public (string Name, string Value) Get(int slot, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (slot >= Slots) return (Encoding.Latin1.GetString(name), Encoding.Latin1.GetString(value));
        if (_nameBytes[slot] is not { } knownName || !name.SequenceEqual(knownName))
        {
            _nameBytes[slot] = name.ToArray();
            _names[slot] = Encoding.Latin1.GetString(name);
            _valueBytes[slot] = null;
        }
        if (_valueBytes[slot] is not { } knownValue || !value.SequenceEqual(knownValue))
        {
            _valueBytes[slot] = value.ToArray();
            _values[slot] = Encoding.Latin1.GetString(value);
        }
        return (_names[slot], _values[slot]);
    }
}
