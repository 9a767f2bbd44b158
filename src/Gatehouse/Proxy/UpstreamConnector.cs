using System.Net.Security;
using System.Net.Sockets;

namespace Gatehouse.Proxy;

/// <summary>
/// The one pooled <see cref="HttpMessageInvoker"/> for every upstream. Connection pools are per host:port inside
/// SocketsHttpHandler; per-service connect timeout and retries travel in the request's options and are applied by
/// the connect callback, so a connect failure is retried before any byte of the request (or its body) is sent.
/// The connection's stream enforces the service's write_timeout per write (<see cref="UpstreamWriteTimeoutStream"/>).
/// Upstream certificates are not verified, as Kong's default (tls_verify is not implemented yet).
/// </summary>
public sealed class UpstreamConnector : IDisposable
{
    public HttpMessageInvoker Invoker { get; }

    public UpstreamConnector()
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = null,
            ConnectTimeout = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            ConnectCallback = ConnectAsync,
            // header values are bytes end to end (nginx), see HeaderEncoding
            RequestHeaderEncodingSelector = HeaderEncoding.Upstream,
            ResponseHeaderEncodingSelector = HeaderEncoding.Upstream,
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        };
        Invoker = new HttpMessageInvoker(handler, disposeHandler: true);
    }

    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var settings = context.InitialRequestMessage.Options.TryGetValue(ConnectSettings.Key, out var s) ? s : ConnectSettings.Default;
        Exception? last = null;
        for (var attempt = 0; attempt <= settings.Retries; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(settings.Timeout);
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, timeout.Token);
                return new UpstreamWriteTimeoutStream(new NetworkStream(socket, ownsSocket: true), settings.WriteTimeout);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                socket.Dispose();
                last = new TimeoutException($"connect to {context.DnsEndPoint} timed out after {settings.Timeout.TotalMilliseconds} ms");
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
        }
        throw new UpstreamConnectException(context.DnsEndPoint.ToString(), last!);
    }

    public void Dispose() => Invoker.Dispose();
}

/// <summary>The connection to an upstream address could not be opened (refused, unreachable, or connect_timeout):
/// nothing of the request was sent, so a balanced service may try another peer. Wraps the last attempt's
/// <see cref="SocketException"/> or <see cref="TimeoutException"/>.</summary>
public sealed class UpstreamConnectException(string endpoint, Exception inner)
    : IOException($"could not connect to {endpoint}: {inner.Message}", inner)
{
    /// <summary>True when <paramref name="e"/> or one of its inner exceptions is a connect failure.</summary>
    public static bool IsIn(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is UpstreamConnectException) return true;
        return false;
    }
}
