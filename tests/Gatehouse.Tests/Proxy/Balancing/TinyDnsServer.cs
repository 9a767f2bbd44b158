using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Tests.Proxy.Balancing;

/// <summary>A real DNS server on 127.0.0.1 (UDP, port 0) for the cache's tests: answers A, AAAA and SRV queries for
/// the names it is given with the TTL it is given, NXDOMAIN for unknown names, an empty NOERROR for other types of
/// known names;
/// counts the queries it receives per name and type; can hold its answers until released.</summary>
internal sealed class TinyDnsServer : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly ConcurrentDictionary<string, (int Type, uint Ttl, byte[] Data)[]> _names = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, int> _queries = new(StringComparer.OrdinalIgnoreCase);
    private readonly CancellationTokenSource _stop = new();
    private volatile TaskCompletionSource _gate = Open();

    public TinyDnsServer()
    {
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _ = Task.Run(ServeAsync);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Sets the A and AAAA records of <paramref name="name"/> (by the addresses' families).</summary>
    public void SetA(string name, uint ttl, params IPAddress[] addresses) =>
        _names[name] = addresses.Select(a => (a.AddressFamily == AddressFamily.InterNetwork ? 1 : 28, ttl, a.GetAddressBytes())).ToArray();

    public void SetSrv(string name, uint ttl, int priority, int weight, int port, string target)
    {
        var data = new List<byte>();
        foreach (var value in new[] { priority, weight, port }) data.AddRange([(byte)(value >> 8), (byte)value]);
        foreach (var label in target.Split('.')) data.AddRange([(byte)label.Length, .. Encoding.ASCII.GetBytes(label)]);
        data.Add(0);
        _names[name] = [(33, ttl, data.ToArray())];
    }

    /// <summary>Queries received for <paramref name="name"/> of type <paramref name="type"/> (1 = A, 28 = AAAA, 33 = SRV).</summary>
    public int Queries(string name, int type = 1) => _queries.GetValueOrDefault($"{name}/{type}");

    public int AllQueries => _queries.Values.Sum();

    /// <summary>From now on, queries are counted but answered only after <see cref="Release"/>.</summary>
    public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _gate.TrySetResult();

    private static TaskCompletionSource Open()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }

    private async Task ServeAsync()
    {
        var buffer = new byte[1500];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            }
            catch (Exception) { return; }
            var query = buffer.AsSpan(0, received.ReceivedBytes).ToArray();
            var (name, type, questionEnd) = ParseQuestion(query);
            _queries.AddOrUpdate($"{name}/{type}", 1, (_, n) => n + 1);
            var gate = _gate.Task;
            _ = Task.Run(async () =>
            {
                await gate;
                try
                {
                    await _socket.SendToAsync(Answer(query, name, type, questionEnd), received.RemoteEndPoint);
                }
                catch (Exception) { /* disposed */ }
            });
        }
    }

    private static (string Name, int Type, int QuestionEnd) ParseQuestion(byte[] query)
    {
        var labels = new List<string>();
        var at = 12;
        while (query[at] != 0)
        {
            labels.Add(Encoding.ASCII.GetString(query, at + 1, query[at]));
            at += query[at] + 1;
        }
        at++;
        var type = BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(at));
        return (string.Join('.', labels), type, at + 4);
    }

    private byte[] Answer(byte[] query, string name, int type, int questionEnd)
    {
        var known = _names.TryGetValue(name, out var entry);
        var records = known ? entry!.Where(r => r.Type == type).ToArray() : [];
        var answer = new List<byte>(query.AsSpan(0, questionEnd).ToArray());
        // header: same id; QR, RD, RA; rcode 3 (NXDOMAIN) for unknown names; one question, n answers, no others
        answer[2] = 0x81;
        answer[3] = (byte)(0x80 | (known ? 0 : 3));
        answer[6] = 0; answer[7] = (byte)records.Length;
        answer[8] = answer[9] = answer[10] = answer[11] = 0;
        foreach (var record in records)
        {
            answer.AddRange([0xC0, 12, 0, (byte)record.Type, 0, 1]); // name: pointer to the question; type; class IN
            var ttl = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(ttl, record.Ttl);
            answer.AddRange(ttl);
            answer.AddRange([(byte)(record.Data.Length >> 8), (byte)record.Data.Length]);
            answer.AddRange(record.Data);
        }
        return answer.ToArray();
    }

    public void Dispose()
    {
        _stop.Cancel();
        Release();
        _socket.Dispose();
    }
}
