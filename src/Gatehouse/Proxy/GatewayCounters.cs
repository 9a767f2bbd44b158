using Microsoft.AspNetCore.Http;

namespace Gatehouse.Proxy;

/// <summary>
/// Process-wide connection and request counters for <c>/status</c>, defined as nginx's stub_status (which Kong
/// reports): accepted/handled connections since start, active connections, connections <em>reading</em> a request
/// header, requests <em>writing</em> (in the application, from the end of the header to the end of the response), and
/// the total of requests. One instance per host; connections are counted by every listener's connection middleware
/// (Hosting's <c>KestrelListeners</c>), requests by the proxy handler and the other planes' branch.
/// </summary>
public sealed class GatewayCounters
{
    private long _total;
    private long _active;
    private long _accepted;
    private long _connections;
    private long _reading;

    /// <summary>Every request taken into the application since start, on every listener (nginx's <c>requests</c>).</summary>
    public long TotalRequests => Interlocked.Read(ref _total);
    /// <summary>Requests in the application now (nginx's <c>writing</c>).</summary>
    public long ActiveRequests => Interlocked.Read(ref _active);
    /// <summary>Connections accepted since start; every one is handled (no connection limit drops any).</summary>
    public long ConnectionsAccepted => Interlocked.Read(ref _accepted);
    /// <summary>Open client connections, idle keep-alive ones included.</summary>
    public long ConnectionsActive => Interlocked.Read(ref _connections);
    /// <summary>HTTP/1.x connections that have received part of a request header not yet taken into the application.</summary>
    public long ConnectionsReading => Interlocked.Read(ref _reading);

    /// <summary>A request begins; returns its connection's activity (null without one) for <see cref="End"/>.</summary>
    internal ConnectionActivity? Begin(HttpContext http)
    {
        var connection = ConnectionActivity.Of(http);
        Begin(http, connection);
        return connection;
    }

    /// <summary>A request begins on a connection already looked up (<see cref="ConnectionActivity.Of"/>).</summary>
    internal void Begin(HttpContext http, ConnectionActivity? connection)
    {
        Interlocked.Increment(ref _total);
        Interlocked.Increment(ref _active);
        connection?.RequestStarted(http);
    }

    internal void End(HttpContext http, ConnectionActivity? connection)
    {
        connection?.RequestEnded(http);
        Interlocked.Decrement(ref _active);
    }

    internal ConnectionActivity Opened(ListenerKind kind)
    {
        var number = Interlocked.Increment(ref _accepted);
        Interlocked.Increment(ref _connections);
        return new ConnectionActivity(kind, this, number);
    }

    internal void Closed(ConnectionActivity connection)
    {
        connection.Closed();
        Interlocked.Decrement(ref _connections);
    }

    internal void ReadingStarted() => Interlocked.Increment(ref _reading);

    internal void ReadingEnded() => Interlocked.Decrement(ref _reading);
}
