using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Tests.Reliability;

/// <summary>
/// A minimal HTTP/2 prior-knowledge client for headers .NET's HttpClient will not send (connection-specific ones):
/// preface, empty SETTINGS, one HEADERS frame with END_STREAM (HPACK literals without Huffman), then the response
/// status from the first HEADERS frame on stream 1 (-1 when the stream or connection is reset instead).
/// </summary>
public static class H2
{
    private static readonly Dictionary<int, int> StaticStatus = new() { [8] = 200, [9] = 204, [10] = 206, [11] = 304, [12] = 400, [13] = 404, [14] = 500 };

    public static async Task<int> SendAsync(Uri server, IReadOnlyList<(string Name, string Value)> headers)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server.Host, server.Port);
        var block = new List<byte>();
        foreach (var (name, value) in headers)
        {
            block.Add(0x00); // literal without indexing, new name
            Str(block, name);
            Str(block, value);
        }
        var output = new List<byte>();
        output.AddRange("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
        Frame(output, 4, 0, 0, []);
        Frame(output, 1, 0x5, 1, block.ToArray()); // END_STREAM | END_HEADERS
        await socket.SendAsync(output.ToArray(), SocketFlags.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var header = new byte[9];
        while (true)
        {
            await ReadExactAsync(socket, header, timeout.Token);
            var length = (header[0] << 16) | (header[1] << 8) | header[2];
            var type = header[3];
            var stream = ((header[5] & 0x7f) << 24) | (header[6] << 16) | (header[7] << 8) | header[8];
            var payload = new byte[length];
            await ReadExactAsync(socket, payload, timeout.Token);
            if (type == 7 || (type == 3 && stream == 1)) return -1; // GOAWAY, RST_STREAM
            if (type == 1 && stream == 1) return Status(payload);
        }
    }

    private static int Status(byte[] block)
    {
        var first = block[0];
        if ((first & 0x80) != 0) return StaticStatus[first & 0x7f];
        // literal with indexed name :status (Kestrel: no Huffman); incremental (01xxxxxx) or not (0000xxxx)
        var length = block[1] & 0x7f;
        return int.Parse(Encoding.ASCII.GetString(block, 2, length), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void Str(List<byte> block, string s)
    {
        var bytes = Encoding.Latin1.GetBytes(s);
        if (bytes.Length >= 127) throw new ArgumentException("short strings only", nameof(s));
        block.Add((byte)bytes.Length);
        block.AddRange(bytes);
    }

    private static void Frame(List<byte> output, byte type, byte flags, int stream, byte[] payload)
    {
        output.Add((byte)(payload.Length >> 16));
        output.Add((byte)(payload.Length >> 8));
        output.Add((byte)payload.Length);
        output.Add(type);
        output.Add(flags);
        output.Add((byte)(stream >> 24));
        output.Add((byte)(stream >> 16));
        output.Add((byte)(stream >> 8));
        output.Add((byte)stream);
        output.AddRange(payload);
    }

    private static async Task ReadExactAsync(Socket socket, byte[] buffer, CancellationToken ct)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, ct);
            if (n == 0) throw new IOException("connection closed");
            read += n;
        }
    }
}
