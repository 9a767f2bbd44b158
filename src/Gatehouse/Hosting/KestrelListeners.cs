using System.Net;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Config;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Gatehouse.Hosting;

/// <summary>
/// Turns the *_listen settings into Kestrel endpoints, each stamped with its <see cref="ListenerKind"/>.
/// Protocols: <c>ssl</c> → TLS with ALPN offering h2 when <c>http2</c> is set (else HTTP/1.1 only);
/// cleartext with <c>http2</c> → h2c with prior knowledge ONLY, like nginx's <c>listen … http2</c> without ssl:
/// Kestrel cannot serve HTTP/1.1 and h2c on one cleartext port (without ALPN it always picks HTTP/1.1), and the
/// HTTP/1.1 <c>Upgrade: h2c</c> dance is not supported; list a second proxy_listen entry for HTTP/1.1 clients.
/// Cleartext without <c>http2</c> → HTTP/1.1.
/// </summary>
internal static class KestrelListeners
{
    public static void Configure(KestrelServerOptions kestrel, GatehouseOptions options, GatewayCounters counters)
    {
        // Kong's default client_max_body_size is 0 (unlimited): a gateway streams bodies, it does not cap them.
        // Limits belong to plugins (request-size-limiting) and filters (the Wasm body-buffer limit → 413).
        kestrel.Limits.MaxRequestBodySize = null;
        // Slow clients (slowloris): nginx's client_header_timeout and keepalive_timeout. A body that trickles is cut
        // by Kestrel's minimum request body data rate (240 bytes/s after a 5 s grace), stricter than nginx's
        // client_body_timeout (60 s between two reads).
        kestrel.Limits.RequestHeadersTimeout = options.ClientHeaderTimeout;
        kestrel.Limits.KeepAliveTimeout = options.KeepaliveTimeout;
        X509Certificate2? certificate = null;
        X509Certificate2 Certificate() => certificate ??= X509Certificate2.CreateFromPemFile(options.SslCert!, options.SslCertKey);
        Add(kestrel, options.ProxyListen, ListenerKind.Proxy, Certificate, counters);
        Add(kestrel, options.AdminListen, ListenerKind.Admin, Certificate, counters);
        Add(kestrel, options.StatusListen, ListenerKind.Status, Certificate, counters);
    }

    private static void Add(KestrelServerOptions kestrel, IReadOnlyList<ListenAddress> addresses, ListenerKind kind,
        Func<X509Certificate2> certificate, GatewayCounters counters)
    {
        foreach (var address in addresses)
        {
            kestrel.Listen(ToEndPoint(address), listen =>
            {
                listen.Protocols = !address.Http2 ? HttpProtocols.Http1 : address.Ssl ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http2;
                // first, before TLS (as nginx counts at accept): the connection for /status, and its plane
                listen.Use(next => async connection =>
                {
                    var activity = counters.Opened(kind);
                    connection.Items[ListenerKinds.ItemKey] = activity;
                    try { await next(connection); }
                    finally { counters.Closed(activity); }
                });
                if (address.Ssl)
                {
                    var cert = certificate();
                    listen.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        // Kestrel exposes no SNI on the request: keep the name the client asked for on the connection
                        ServerCertificateSelector = (connection, name) =>
                        {
                            if (connection is not null && name is not null) connection.Items[ListenerKinds.SniItemKey] = name;
                            return cert;
                        },
                    });
                }
                // after TLS (its ALPN result is known): HTTP/1.x input is observed for the "reading" phase
                listen.Use(next => connection =>
                {
                    if (IsHttp1(connection, listen.Protocols) && connection.Items[ListenerKinds.ItemKey] is ConnectionActivity activity)
                        connection.Transport = new ActivityDuplexPipe(connection.Transport, activity);
                    return next(connection);
                });
            });
        }
    }

    private static bool IsHttp1(Microsoft.AspNetCore.Connections.ConnectionContext connection, HttpProtocols protocols) =>
        protocols == HttpProtocols.Http1
        || (protocols != HttpProtocols.Http2
            && connection.Features.Get<Microsoft.AspNetCore.Server.Kestrel.Core.Features.ITlsApplicationProtocolFeature>()?.ApplicationProtocol.Span
                .SequenceEqual("h2"u8) != true);

    private static IPEndPoint ToEndPoint(ListenAddress address)
    {
        var host = address.Host;
        if (host is "*" or "0.0.0.0") return new IPEndPoint(IPAddress.Any, address.Port);
        if (host is "::") return new IPEndPoint(IPAddress.IPv6Any, address.Port);
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return new IPEndPoint(IPAddress.Loopback, address.Port);
        if (IPAddress.TryParse(host, out var ip)) return new IPEndPoint(ip, address.Port);
        var resolved = Dns.GetHostAddresses(host);
        return resolved.Length > 0
            ? new IPEndPoint(resolved[0], address.Port)
            : throw new InvalidOperationException($"cannot resolve listen address '{host}'");
    }
}
