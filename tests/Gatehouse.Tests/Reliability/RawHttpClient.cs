using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Tests.Reliability;

/// <summary>Sends one request whose bytes the test chose (no client library normalising the target) on a new
/// loopback connection and reads the response: status, headers, Content-Length body.</summary>
internal static class RawHttpClient
{
    public sealed record Response(int Status, string Head, byte[] Body)
    {
        public string BodyText => Encoding.UTF8.GetString(Body);
    }

    public static async Task<Response> SendAsync(int port, byte[] request, CancellationToken cancellationToken = default)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", port, cancellationToken);
        await socket.SendAsync(request, cancellationToken);
        var buffer = new List<byte>();
        var chunk = new byte[64 * 1024];
        int headEnd;
        while ((headEnd = IndexOf(buffer, "\r\n\r\n"u8)) < 0)
        {
            var n = await socket.ReceiveAsync(chunk, cancellationToken);
            if (n == 0) throw new IOException("connection closed before the response head: " + Encoding.Latin1.GetString([.. buffer]));
            buffer.AddRange(chunk.AsSpan(0, n));
        }
        var head = Encoding.Latin1.GetString(buffer.GetRange(0, headEnd).ToArray());
        var status = int.Parse(head.AsSpan(9, 3));
        var length = ContentLength(head);
        var bodyStart = headEnd + 4;
        while (buffer.Count - bodyStart < length)
        {
            var n = await socket.ReceiveAsync(chunk, cancellationToken);
            if (n == 0) break;
            buffer.AddRange(chunk.AsSpan(0, n));
        }
        return new Response(status, head, buffer.GetRange(bodyStart, Math.Min(length, buffer.Count - bodyStart)).ToArray());
    }

    /// <summary>A GET (or <paramref name="method"/>) for <paramref name="target"/> with Host and extra header lines.</summary>
    public static byte[] Request(string method, byte[] target, string host, params string[] headers)
    {
        var head = new StringBuilder();
        foreach (var h in headers) head.Append(h).Append("\r\n");
        return [.. Encoding.ASCII.GetBytes(method + " "), .. target,
            .. Encoding.ASCII.GetBytes($" HTTP/1.1\r\nHost: {host}\r\n{head}Connection: close\r\n\r\n")];
    }

    private static int ContentLength(string head)
    {
        foreach (var line in head.Split("\r\n"))
            if (line.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase)) return int.Parse(line.AsSpan(15).Trim());
        return 0;
    }

    private static int IndexOf(List<byte> buffer, ReadOnlySpan<byte> value)
    {
        for (var i = 0; i + value.Length <= buffer.Count; i++)
        {
            var match = true;
            for (var k = 0; k < value.Length && match; k++) match = buffer[i + k] == value[k];
            if (match) return i;
        }
        return -1;
    }
}
