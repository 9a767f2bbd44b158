using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>A raw HTTP/1.1 upstream: for each request it records the head and the body (either framing), then
/// answers with the next scripted response.</summary>
public sealed class ScriptedUpstream : IDisposable
{
    public static readonly Func<Socket, Task> Ok = s => s.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Queue<(Func<Socket, Task> Respond, TaskCompletionSource<Received> Done)> _script = new();
    private TaskCompletionSource<string>? _head;
    private int _requests;

    public ScriptedUpstream()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>Request heads received so far.</summary>
    public int Requests => Volatile.Read(ref _requests);

    public sealed record Received(string Head, byte[] Body);

    public Task<Received> Answer(Func<Socket, Task> respond)
    {
        var done = new TaskCompletionSource<Received>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_script) _script.Enqueue((respond, done));
        return done.Task;
    }

    /// <summary>Completes with the next request head, as soon as it has arrived (before its body).</summary>
    public Task<string> OnHead() =>
        (_head = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                _ = ServeAsync(socket);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    private async Task ServeAsync(Socket socket)
    {
        using var _ = socket;
        var reader = new Reader(socket, _stop.Token);
        try
        {
            while (true)
            {
                var head = await reader.LineBlockAsync();
                if (head is null) return;
                Interlocked.Increment(ref _requests);
                _head?.TrySetResult(head);
                var body = await ReadBodyAsync(reader, head);
                (Func<Socket, Task> Respond, TaskCompletionSource<Received> Done) step;
                lock (_script) step = _script.Count > 0 ? _script.Dequeue() : (Ok, new TaskCompletionSource<Received>());
                step.Done.TrySetResult(new Received(head, body));
                await step.Respond(socket);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException) { }
    }

    private static async Task<byte[]> ReadBodyAsync(Reader reader, string head)
    {
        var lines = head.Split("\r\n");
        var length = lines.Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            .Select(p => (long?)long.Parse(p[1].Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
        if (length is { } n) return await reader.BytesAsync(n);
        if (!head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase)) return [];
        var body = new MemoryStream();
        while (true)
        {
            var size = Convert.ToInt64((await reader.LineAsync())!.Split(';')[0], 16);
            if (size == 0)
            {
                while ((await reader.LineAsync())!.Length > 0) { } // trailers
                return body.ToArray();
            }
            body.Write(await reader.BytesAsync(size));
            await reader.LineAsync();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }

    private sealed class Reader(Socket socket, CancellationToken stop)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start, _end;

        private async Task<bool> FillAsync()
        {
            if (_start == _end) _start = _end = 0;
            if (_end == _buffer.Length)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            var n = await socket.ReceiveAsync(_buffer.AsMemory(_end), stop);
            _end += n;
            return n > 0;
        }

        public async Task<string?> LineAsync()
        {
            while (true)
            {
                var at = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
                if (at >= 0)
                {
                    var line = Encoding.Latin1.GetString(_buffer, _start, at); // one char per byte
                    _start += at + 2;
                    return line;
                }
                if (!await FillAsync()) return null;
            }
        }

        public async Task<string?> LineBlockAsync()
        {
            var head = new StringBuilder();
            while (true)
            {
                var line = await LineAsync();
                if (line is null) return null;
                if (line.Length == 0) return head.ToString();
                head.Append(line).Append("\r\n");
            }
        }

        public async Task<byte[]> BytesAsync(long count)
        {
            var result = new byte[count];
            var filled = 0;
            while (filled < count)
            {
                if (_start == _end && !await FillAsync()) throw new IOException("body cut short");
                var n = (int)Math.Min(count - filled, _end - _start);
                Buffer.BlockCopy(_buffer, _start, result, filled, n);
                _start += n;
                filled += n;
            }
            return result;
        }
    }
}
