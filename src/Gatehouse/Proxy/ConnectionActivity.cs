using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Proxy;

/// <summary>
/// One client connection's plane and phase: idle, reading a request header (bytes arrived, no request in the
/// application yet), or in a request. Stored in the connection's items by the listener's connection middleware;
/// the phase moves only on HTTP/1.x connections, whose input is observed by Hosting's <c>ActivityPipeReader</c>
/// (HTTP/2 multiplexes streams on one connection, so it has no per-connection reading phase).
/// </summary>
internal sealed class ConnectionActivity(ListenerKind kind, GatewayCounters counters, long number)
{
    private const int Idle = 0, Reading = 1, InRequest = 2;
    private int _phase;

    public ListenerKind Kind { get; } = kind;

    /// <summary>The connection's accept number, as nginx's connection counter (Proxy-Wasm's <c>connection.id</c>).</summary>
    public long Number { get; } = number;

    public static ConnectionActivity? Of(HttpContext http) =>
        http.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(ListenerKinds.ItemKey, out var v) == true ? v as ConnectionActivity : null;

    /// <summary>Bytes arrived: an idle connection starts reading a request header.</summary>
    public void BytesReceived()
    {
        if (Volatile.Read(ref _phase) == Idle && Interlocked.CompareExchange(ref _phase, Reading, Idle) == Idle) counters.ReadingStarted();
    }

    public void RequestStarted()
    {
        if (Interlocked.Exchange(ref _phase, InRequest) == Reading) counters.ReadingEnded();
    }

    public void RequestEnded() => Interlocked.CompareExchange(ref _phase, Idle, InRequest);

    public void Closed()
    {
        if (Interlocked.Exchange(ref _phase, Idle) == Reading) counters.ReadingEnded();
    }
}
