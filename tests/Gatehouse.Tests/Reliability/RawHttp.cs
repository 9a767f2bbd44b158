using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Tests.Reliability;

/// <summary>One response as the client read it off the socket.</summary>
public sealed record RawResponse(int Status, string Head, byte[] Body)
{
    public string BodyText => Encoding.Latin1.GetString(Body);
    public string? Header(string name) =>
        Head.Split("\r\n").FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase)) is { } line ? line[(name.Length + 1)..].Trim() : null;
}

/// <summary>Sends raw bytes over a fresh TCP connection and reads back the responses (Content-Length, chunked, or
/// until close), so a test controls every byte of the request.</summary>
public static class RawHttp
{
    /// <summary>Sends <paramref name="request"/> and reads up to <paramref name="responses"/> responses; stops early when
    /// the server closes or stays silent for <paramref name="idle"/>. <paramref name="headRequest"/>: the responses
    /// carry no body whatever their headers say.</summary>
    public static async Task<IReadOnlyList<RawResponse>> SendAsync(Uri server, byte[] request, int responses = 1,
        TimeSpan? idle = null, bool headRequest = false)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server.Host, server.Port);
        await socket.SendAsync(request, SocketFlags.None);
        var buffer = new List<byte>();
        var chunk = new byte[65536];
        var result = new List<RawResponse>();
        var closed = false;
        var wait = idle ?? TimeSpan.FromSeconds(10);
        while (result.Count < responses)
        {
            if (TryParse(buffer, headRequest && result.Count == 0, closed, out var response, out var consumed))
            {
                buffer.RemoveRange(0, consumed);
                if (response.Status is >= 200 or 101) result.Add(response); // 100 Continue is not an answer
                continue;
            }
            if (closed) break;
            using var timeout = new CancellationTokenSource(wait);
            int n;
            try { n = await socket.ReceiveAsync(chunk, SocketFlags.None, timeout.Token); }
            catch (OperationCanceledException) { break; }
            catch (SocketException) { n = 0; }
            if (n == 0) closed = true;
            else buffer.AddRange(chunk.AsSpan(0, n));
        }
        return result;
    }

    /// <summary>True when the connection is closed by the server within <paramref name="wait"/> after the exchange.</summary>
    public static async Task<(IReadOnlyList<RawResponse> Responses, bool Closed)> SendAndWatchCloseAsync(Uri server, byte[] request, TimeSpan wait)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server.Host, server.Port);
        await socket.SendAsync(request, SocketFlags.None);
        var buffer = new List<byte>();
        var chunk = new byte[65536];
        var closed = false;
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            while (true)
            {
                var n = await socket.ReceiveAsync(chunk, SocketFlags.None, timeout.Token);
                if (n == 0) { closed = true; break; }
                buffer.AddRange(chunk.AsSpan(0, n));
            }
        }
        catch (OperationCanceledException) { }
        catch (SocketException) { closed = true; }
        var result = new List<RawResponse>();
        while (TryParse(buffer, false, closed, out var response, out var consumed))
        {
            buffer.RemoveRange(0, consumed);
            result.Add(response);
        }
        return (result, closed);
    }

    private static bool TryParse(List<byte> buffer, bool headRequest, bool closed, out RawResponse response, out int consumed)
    {
        response = null!;
        consumed = 0;
        var bytes = buffer.ToArray();
        var headEnd = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
        if (headEnd < 0) return false;
        var head = Encoding.Latin1.GetString(bytes, 0, headEnd);
        var status = int.Parse(head.AsSpan(9, 3), provider: System.Globalization.CultureInfo.InvariantCulture);
        var start = headEnd + 4;
        var lower = head.ToLowerInvariant();
        if (status is 204 or 304 || status < 200 || headRequest)
        {
            response = new RawResponse(status, head, []);
            consumed = start;
            return true;
        }
        var cl = lower.Split("\r\n").FirstOrDefault(l => l.StartsWith("content-length:", StringComparison.Ordinal));
        if (cl is not null)
        {
            var length = int.Parse(cl[15..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            if (bytes.Length - start < length) return false;
            response = new RawResponse(status, head, bytes[start..(start + length)]);
            consumed = start + length;
            return true;
        }
        if (lower.Contains("\r\ntransfer-encoding: chunked", StringComparison.Ordinal))
        {
            var body = new List<byte>();
            var pos = start;
            while (true)
            {
                var lineEnd = bytes.AsSpan(pos).IndexOf("\r\n"u8);
                if (lineEnd < 0) return false;
                var size = Convert.ToInt32(Encoding.Latin1.GetString(bytes, pos, lineEnd).Split(';')[0], 16);
                pos += lineEnd + 2;
                if (size == 0)
                {
                    var end = bytes.AsSpan(pos).IndexOf("\r\n"u8); // trailers are not expected: the blank line
                    if (end < 0) return false;
                    pos += end + 2;
                    break;
                }
                if (bytes.Length < pos + size + 2) return false;
                body.AddRange(bytes.AsSpan(pos, size));
                pos += size + 2;
            }
            response = new RawResponse(status, head, body.ToArray());
            consumed = pos;
            return true;
        }
        if (!closed) return false; // read until close
        response = new RawResponse(status, head, bytes[start..]);
        consumed = bytes.Length;
        return true;
    }
}
