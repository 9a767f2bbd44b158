using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Config;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Gatehouse.Model;

namespace Gatehouse.Hosting;

/// <summary>
/// Turns the *_listen settings into Kestrel endpoints, each stamped with its <see cref="ListenerKind"/>.
/// Protocols: <c>ssl</c> → TLS with ALPN offering h2 when <c>http2</c> is set (else HTTP/1.1 only);
/// cleartext with <c>http2</c> → h2c with prior knowledge ONLY, like nginx's <c>listen … http2</c> without ssl:
/// Kestrel cannot serve HTTP/1.1 and h2c on one cleartext port (without ALPN it always picks HTTP/1.1), and the
/// HTTP/1.1 <c>Upgrade: h2c</c> dance is not supported; list a second proxy_listen entry for HTTP/1.1 clients.
/// Cleartext without <c>http2</c> → HTTP/1.1.
/// <c>proxy_protocol</c>: every connection must start with a PROXY protocol header (<see cref="ProxyProtocolMiddleware"/>).
/// <c>ssl</c>: the ClientHello is peeked first (<see cref="ClientHelloMiddleware"/>), then the handshake takes its options
/// from <see cref="ListenerHandshake"/> (certificate by SNI and key type, prepared once per certificate).
/// Socket flags (<see cref="ListenSocketFactory"/>): <c>backlog=N</c>, <c>reuseport</c>, <c>ipv6only=on|off</c>;
/// <c>bind</c> is accepted with no further effect because Kestrel always binds each listen entry's own socket
/// (nginx binds one wildcard socket per port unless <c>bind</c> is given).
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
        // each plane's pair (ssl_cert, admin_ssl_cert, status_ssl_cert, admin_gui_ssl_cert), or Kong's self-signed default generated under the
        // prefix when it is not set; loaded at start so a bad file stops the start, not the first handshake
        var defaultCertificate = new Lazy<TlsCredentialPair>(() => DefaultCertificate.LoadOrCreate(options.Prefix));
        TlsCredentialPair? Load(IReadOnlyList<ListenAddress> listeners, string? cert, string? key) =>
            !listeners.Any(l => l.Ssl) ? null
            : cert is not null ? new TlsCredentialPair(TlsCredential.FromPemFile(cert, key), null)
            : defaultCertificate.Value;
        var proxyCertificate = Load(options.ProxyListen, options.SslCert, options.SslCertKey);
        var adminCertificate = Load(options.AdminListen, options.AdminSslCert, options.AdminSslCertKey);
        var statusCertificate = Load(options.StatusListen, options.StatusSslCert, options.StatusSslCertKey);
        var managerCertificate = Load(options.AdminGuiListen, options.AdminGuiSslCert, options.AdminGuiSslCertKey);
        var proxyProtocol = new ProxyProtocolMiddleware(options.ClientHeaderTimeout);
        // proxy listeners present the certificate of the client's SNI (Kong's snis), else ssl_cert; Admin and status their own
        Func<GatewayConfig> config = () => kestrel.ApplicationServices.GetRequiredService<GatewayConfigPublisher>().Current;
        var snis = new SniCertificates(config, proxyCertificate,
            () => kestrel.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger<SniCertificates>());
        var tls = new ListenerTls(options.SslProtocols, options.CipherSuites.Policy());
        // the ClientHello tells which of a certificate's pairs (cert_alt, or the default's RSA and ECDSA) to present
        var clientHello = new ClientHelloMiddleware(HandshakeTimeout, tls);
        // nginx_proxy_ssl_verify_client: proxy listeners only (Kong injects it into the proxy server block)
        var clientCertificates = options.ProxyListen.Any(l => l.Ssl) ? ClientCertificateVerifier.Create(options.ClientCertificates, config) : null;
        Add(kestrel, options.ProxyListen, ListenerKind.Proxy, snis.Select, tls, counters, proxyProtocol, clientHello, clientCertificates);
        Add(kestrel, options.AdminListen, ListenerKind.Admin, (_, accepted) => adminCertificate?.Choose(accepted), tls, counters, proxyProtocol, clientHello, null);
        Add(kestrel, options.StatusListen, ListenerKind.Status, (_, accepted) => statusCertificate?.Choose(accepted), tls, counters, proxyProtocol, clientHello, null);
        // the Gatehouse Manager (admin_gui_listen): admin_gui_ssl_cert on its 'ssl' entries, as Kong
        Add(kestrel, options.AdminGuiListen, ListenerKind.Manager, (_, accepted) => managerCertificate?.Choose(accepted), tls, counters, proxyProtocol, clientHello, null);
    }

    /// <summary>Kestrel's default TLS handshake timeout, kept: the ClientHello must arrive within it too.</summary>
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    private static void Add(KestrelServerOptions kestrel, IReadOnlyList<ListenAddress> addresses, ListenerKind kind,
        Func<string?, EcdsaCurves, TlsCredential?> certificate, ListenerTls tls, GatewayCounters counters, ProxyProtocolMiddleware proxyProtocol,
        ClientHelloMiddleware clientHello, ClientCertificateVerifier? clientCertificates)
    {
        foreach (var address in addresses)
        {
            kestrel.Listen(new ListenEndPoint(ToEndPoint(address), address), listen =>
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
                // then, still before TLS: the balancer's PROXY header precedes the handshake
                if (address.ProxyProtocol) listen.Use(next => connection => proxyProtocol.OnConnectionAsync(connection, next));
                if (address.Ssl)
                {
                    listen.Use(next => connection => clientHello.OnConnectionAsync(connection, next));
                    var handshake = new ListenerHandshake(certificate, tls, listen.Protocols, clientCertificates);
                    listen.UseHttps(new TlsHandshakeCallbackOptions { OnConnection = handshake.OnConnection, HandshakeTimeout = HandshakeTimeout });
                    if (clientCertificates is not null)
                        listen.Use(next => connection =>
                        {
                            clientCertificates.Record(connection);
                            return next(connection);
                        });
                }
                // after TLS (its ALPN result is known): HTTP/1.x input is observed for the "reading" phase and both
                // directions counted; an HTTP/2 proxy connection's frames are scanned for per-stream counts
                listen.Use(next => connection =>
                {
                    if (connection.Items[ListenerKinds.ItemKey] is not ConnectionActivity activity) return next(connection);
                    if (IsHttp1(connection, listen.Protocols)) connection.Transport = new ActivityDuplexPipe(connection.Transport, activity);
                    else if (kind == ListenerKind.Proxy)
                    {
                        var streams = new Http2StreamSizes();
                        connection.Transport = new Http2MeteredDuplexPipe(connection.Transport, streams);
                        activity.CountHttp2Streams(streams);
                    }
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

    /// <summary>Installs the listen socket factory that applies the socket flags (the transport is configured
    /// apart from Kestrel's endpoints; the flags travel with each endpoint, see <see cref="ListenEndPoint"/>).</summary>
    public static void ConfigureSockets(IWebHostBuilder builder) =>
        builder.UseSockets(transport => transport.CreateBoundListenSocket = new ListenSocketFactory(transport).Create);

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

/// <summary>What every <c>ssl</c> listener negotiates: <c>ssl_protocols</c> and the policy of <c>ssl_cipher_suite</c>.</summary>
internal sealed record ListenerTls(System.Security.Authentication.SslProtocols Protocols, System.Net.Security.CipherSuitesPolicy? CipherSuites);

/// <summary>A Kestrel endpoint that carries its listen entry, so the socket factory can apply the entry's flags even
/// when several entries share one address (port 0).</summary>
internal sealed class ListenEndPoint(IPEndPoint endPoint, ListenAddress listen) : IPEndPoint(endPoint.Address, endPoint.Port)
{
    public ListenAddress Listen { get; } = listen;
}

/// <summary>
/// Creates and binds each listening socket with its entry's flags: SO_REUSEPORT (<c>reuseport</c>), dual mode
/// for <c>[::]</c> (<c>ipv6only</c>, nginx's default on), and the listen queue (<c>backlog=N</c>).
/// </summary>
internal sealed class ListenSocketFactory(SocketTransportOptions transport)
{
    // Kestrel calls Listen(transport.Backlog) right after this factory returns, binding endpoints one at a time;
    // setting the value per socket here is the one place a per-entry backlog can reach that call.
    private readonly int _defaultBacklog = transport.Backlog;

    public Socket Create(EndPoint endPoint)
    {
        if (endPoint is not ListenEndPoint { Listen: var listen } ip)
        {
            transport.Backlog = _defaultBacklog;
            return SocketTransportOptions.CreateDefaultBoundListenSocket(endPoint);
        }
        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (ip.Address.Equals(IPAddress.IPv6Any)) socket.DualMode = listen.Ipv6Only == false;
            if (listen.ReusePort) SetReusePort(socket);
            socket.Bind(new IPEndPoint(ip.Address, ip.Port));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        transport.Backlog = listen.Backlog ?? _defaultBacklog;
        return socket;
    }

    private static void SetReusePort(Socket socket)
    {
        // SOL_SOCKET / SO_REUSEPORT differ per platform and .NET has no named option for it
        (int level, int name) = OperatingSystem.IsLinux() ? (1, 15)
            : OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? (0xffff, 0x200)
            : throw new PlatformNotSupportedException("listen flag 'reuseport' needs SO_REUSEPORT (Linux, macOS, FreeBSD)");
        socket.SetRawSocketOption(level, name, BitConverter.GetBytes(1));
    }
}

/// <summary>
/// <c>listen … proxy_protocol</c>: reads the PROXY header (v1 or v2) before anything else on the connection and makes
/// the address it names the connection's remote address, so X-Real-IP, X-Forwarded-For, the access log and
/// plugins see the balancer's client. A connection without a valid header, or that sends none within
/// client_header_timeout, is closed without an answer, as nginx does ("broken header").
/// </summary>
internal sealed class ProxyProtocolMiddleware(TimeSpan timeout)
{
    public async Task OnConnectionAsync(Microsoft.AspNetCore.Connections.ConnectionContext connection,
        Microsoft.AspNetCore.Connections.ConnectionDelegate next)
    {
        var input = connection.Transport.Input;
        using (var deadline = new CancellationTokenSource(timeout))
        {
            while (true)
            {
                System.IO.Pipelines.ReadResult read;
                try { read = await input.ReadAsync(deadline.Token); }
                catch (OperationCanceledException) { return; }
                var buffer = read.Buffer;
                var result = ProxyProtocolHeader.TryParse(buffer, out var length, out var client);
                if (result == ProxyProtocolHeader.Result.Complete)
                {
                    input.AdvanceTo(buffer.GetPosition(length));
                    if (client is not null) connection.RemoteEndPoint = client;
                    break;
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                if (result == ProxyProtocolHeader.Result.Invalid || read.IsCompleted) return;
            }
        }
        await next(connection);
    }
}
