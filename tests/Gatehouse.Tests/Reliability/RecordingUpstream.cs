using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Tests.Reliability;

/// <summary>One request as the upstream received it: the head bytes (request line and header lines, up to and
/// without the blank line) and the body bytes exactly as on the wire (chunk framing included).</summary>
public sealed record RecordedRequest(byte[] Head, byte[] Body)
{
    public string HeadText => Encoding.Latin1.GetString(Head);
    public string RequestLine => HeadText.Split("\r\n")[0];
    /// <summary>Header lines as received (name and value bytes as Latin-1 chars), in order.</summary>
    public IReadOnlyList<string> HeaderLines => HeadText.Split("\r\n")[1..];
    public string? Header(string name) =>
        HeaderLines.FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase)) is { } line ? line[(name.Length + 1)..].Trim() : null;
    public string BodyText => Encoding.Latin1.GetString(Body);

    /// <summary>The body with chunk framing removed (the gateway's chunk sizes are its own business).</summary>
    public string Content
    {
        get
        {
            if (Header("Transfer-Encoding") is null) return BodyText;
            var content = new StringBuilder();
            var rest = BodyText;
            while (true)
            {
                var line = rest.IndexOf("\r\n", StringComparison.Ordinal);
                var size = Convert.ToInt32(rest[..line].Split(';')[0], 16);
                if (size == 0) return content.ToString();
                content.Append(rest, line + 2, size);
                rest = rest[(line + 2 + size + 2)..];
            }
        }
    }
}

/// <summary>
/// A raw TCP HTTP/1.1 upstream on 127.0.0.1:0 that records the exact bytes of each request it receives (keep-alive,
/// Content-Length and chunked bodies) and answers with the bytes <see cref="Respond"/> returns for it (default:
/// 200 with body <c>ok</c>). No HTTP library between the wire and the record.
/// </summary>
public sealed class RecordingUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly BlockingCollection<RecordedRequest> _received = new();
    private readonly Task _accept;

    public RecordingUpstream()
    {
        _listener.Start();
        _accept = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static readonly byte[] Ok = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"u8.ToArray();

    /// <summary>The raw response for a request (set before traffic).</summary>
    public Func<RecordedRequest, byte[]> Respond { get; set; } = _ => Ok;

    /// <summary>The next recorded request, or null when none arrives within <paramref name="wait"/>.</summary>
    public RecordedRequest? Take(TimeSpan wait) => _received.TryTake(out var r, wait) ? r : null;

    /// <summary>Drops whatever was recorded so far.</summary>
    public void Clear() { while (_received.TryTake(out _)) { } }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try { socket = await _listener.AcceptSocketAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using var _ = socket;
        var buffer = new List<byte>();
        var chunk = new byte[65536];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                int headEnd;
                while ((headEnd = IndexOf(buffer, "\r\n\r\n"u8)) < 0)
                    if (!await ReadAsync()) return;
                var head = buffer.GetRange(0, headEnd).ToArray();
                buffer.RemoveRange(0, headEnd + 4);
                var text = Encoding.Latin1.GetString(head).ToLowerInvariant();
                var bodyLength = 0;
                if (text.Contains("\r\ntransfer-encoding:", StringComparison.Ordinal))
                {
                    // chunked: up to and including the last-chunk's terminating blank line (no trailers are forwarded)
                    int end;
                    while ((end = IndexOf(buffer, "\r\n0\r\n\r\n"u8)) < 0 && !StartsWith(buffer, "0\r\n\r\n"u8))
                        if (!await ReadAsync()) return;
                    bodyLength = end < 0 ? 5 : end + 7;
                }
                else if (HeaderValue(text, "content-length") is { } cl)
                {
                    bodyLength = int.Parse(cl, System.Globalization.CultureInfo.InvariantCulture);
                    while (buffer.Count < bodyLength)
                        if (!await ReadAsync()) return;
                }
                var request = new RecordedRequest(head, buffer.GetRange(0, bodyLength).ToArray());
                buffer.RemoveRange(0, bodyLength);
                _received.Add(request);
                await socket.SendAsync(Respond(request), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception) { } // the gateway closed or reset the connection: nothing more to record

        async Task<bool> ReadAsync()
        {
            var n = await socket.ReceiveAsync(chunk, SocketFlags.None, _stop.Token);
            if (n == 0) return false;
            buffer.AddRange(chunk.AsSpan(0, n));
            return true;
        }
    }

    private static string? HeaderValue(string lowerHead, string name)
    {
        var at = lowerHead.IndexOf("\r\n" + name + ":", StringComparison.Ordinal);
        if (at < 0) return null;
        var start = at + name.Length + 3;
        var end = lowerHead.IndexOf("\r\n", start, StringComparison.Ordinal);
        return (end < 0 ? lowerHead[start..] : lowerHead[start..end]).Trim();
    }

    private static bool StartsWith(List<byte> buffer, ReadOnlySpan<byte> value)
    {
        if (buffer.Count < value.Length) return false;
        for (var i = 0; i < value.Length; i++) if (buffer[i] != value[i]) return false;
        return true;
    }

    private static int IndexOf(List<byte> buffer, ReadOnlySpan<byte> value)
    {
        for (var i = 0; i + value.Length <= buffer.Count; i++)
        {
            var j = 0;
            while (j < value.Length && buffer[i + j] == value[j]) j++;
            if (j == value.Length) return i;
        }
        return -1;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try { await _accept; } catch (Exception) { }
        _stop.Dispose();
        _received.Dispose();
    }
}
