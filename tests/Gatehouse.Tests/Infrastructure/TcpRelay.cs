using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>
/// A TCP relay on 127.0.0.1 to a local port, that a test can <see cref="Cut"/> (listener closed, every relayed
/// connection reset) and <see cref="Restore"/> on the same port: one client loses its server while others keep it.
/// </summary>
internal sealed class TcpRelay : IAsyncDisposable
{
    private readonly int _target;
    private readonly object _lock = new();
    private readonly List<TcpClient> _open = [];
    private TcpListener? _listener;

    private TcpRelay(int target, int port)
    {
        _target = target;
        Port = port;
    }

    public int Port { get; }

    public static TcpRelay Start(int targetPort)
    {
        var relay = new TcpRelay(targetPort, EchoUpstream.FreePort());
        relay.Restore();
        return relay;
    }

    /// <summary>Listens again (after <see cref="Cut"/>).</summary>
    public void Restore()
    {
        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        lock (_lock) _listener = listener;
        _ = AcceptAsync(listener);
    }

    /// <summary>Refuses new connections and resets the relayed ones.</summary>
    public void Cut()
    {
        lock (_lock)
        {
            _listener?.Stop();
            _listener = null;
            foreach (var client in _open)
            {
                client.Client.LingerState = new LingerOption(true, 0); // RST, as a vanished server
                client.Dispose();
            }
            _open.Clear();
        }
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (true)
        {
            TcpClient inbound;
            try { inbound = await listener.AcceptTcpClientAsync(); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException) { return; }
            _ = RelayAsync(inbound);
        }
    }

    private async Task RelayAsync(TcpClient inbound)
    {
        var outbound = new TcpClient();
        lock (_lock)
        {
            _open.Add(inbound);
            _open.Add(outbound);
        }
        try
        {
            await outbound.ConnectAsync(IPAddress.Loopback, _target);
            var a = inbound.GetStream();
            var b = outbound.GetStream();
            await Task.WhenAny(a.CopyToAsync(b), b.CopyToAsync(a));
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException) { }
        finally
        {
            lock (_lock)
            {
                _open.Remove(inbound);
                _open.Remove(outbound);
            }
            inbound.Dispose();
            outbound.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        Cut();
        return ValueTask.CompletedTask;
    }
}
