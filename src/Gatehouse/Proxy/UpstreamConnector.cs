using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Proxy.Tracing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Proxy;

/// <summary>
/// The pooled <see cref="HttpMessageInvoker"/>s for upstreams: one shared by every service without upstream TLS
/// settings (certificates not verified, none presented: Kong's default) and one per distinct
/// <see cref="UpstreamTlsProfile"/>, built when a configuration snapshot is compiled, never per request. Connection
/// pools are per host:port:sni inside SocketsHttpHandler; per-service connect timeout and retries travel in the
/// request's options and are applied by the connect callback, so a connect failure is retried before any byte of the
/// request (or its body) is sent. The connection's stream enforces the service's write_timeout per write
/// (<see cref="UpstreamWriteTimeoutStream"/>).
/// </summary>
public sealed class UpstreamConnector : IDisposable
{
    /// <summary>The shared invoker of <see cref="UpstreamTlsProfile.None"/>.</summary>
    public HttpMessageInvoker Invoker { get; }
    public UpstreamTlsDefaults Defaults { get; }
    private readonly X509Certificate2Collection _globalTrust;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<UpstreamTlsProfile, ProfileInvoker> _profiles = new();

    public UpstreamConnector() : this(new UpstreamTlsDefaults(false, 1, null), NullLogger<UpstreamConnector>.Instance) { }

    public UpstreamConnector(UpstreamTlsDefaults defaults, ILogger<UpstreamConnector> logger)
    {
        Defaults = defaults ?? throw new ArgumentNullException(nameof(defaults));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _globalTrust = [];
        if (defaults.TrustedCertificateFile is { } file) _globalTrust.ImportFromPemFile(file);
        Invoker = new HttpMessageInvoker(CreateHandler(new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        }), disposeHandler: true);
    }

    /// <summary>The invoker of <paramref name="profile"/>, built on first use and kept until <see cref="Retain"/>
    /// drops the profile.</summary>
    public HttpMessageInvoker For(UpstreamTlsProfile profile)
    {
        if (profile == UpstreamTlsProfile.None) return Invoker;
        if (_profiles.TryGetValue(profile, out var existing)) return existing;
        var created = new ProfileInvoker(this, profile, CreateHandler(SslOptions(profile)));
        var winner = _profiles.GetOrAdd(profile, created);
        // a concurrent caller built the same profile first: ours was never handed out
        if (!ReferenceEquals(winner, created)) created.Retire();
        return winner;
    }

    /// <summary>Disposes the invokers of profiles no longer in the configuration, each once its last request in
    /// flight has been sent (connections already carrying a response finish first: a disposed pool closes them when
    /// they come back).</summary>
    public void Retain(IReadOnlySet<UpstreamTlsProfile> live)
    {
        foreach (var (profile, invoker) in _profiles)
            if (!live.Contains(profile) && _profiles.TryRemove(new KeyValuePair<UpstreamTlsProfile, ProfileInvoker>(profile, invoker)))
                invoker.Retire();
    }

    /// <summary>How many profiles have an invoker (tests).</summary>
    internal int ProfileCount => _profiles.Count;

    private SslClientAuthenticationOptions SslOptions(UpstreamTlsProfile profile)
    {
        var options = new SslClientAuthenticationOptions();
        if (profile.ClientCertificatePem is { } pem && profile.ClientKeyPem is { } key)
        {
            // the entity's cert may carry its chain after the leaf: sent along, as nginx does
            try
            {
                var leaf = X509Certificate2.CreateFromPem(pem, key);
                var chain = new X509Certificate2Collection();
                chain.ImportFromPem(pem);
                options.ClientCertificateContext = SslStreamCertificateContext.Create(leaf, new X509Certificate2Collection(chain.Skip(1).ToArray()), offline: true);
            }
            catch (System.Security.Cryptography.CryptographicException e)
            {
                // the certificates entity validated the pair; if it still cannot be loaded, Kong logs and presents none
                ProxyLog.ClientCertificateUnusable(_logger, e);
            }
        }
        if (!profile.Verify)
        {
            options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
            return options;
        }
        X509Certificate2Collection trust;
        if (profile.TrustedPem is { } trustedPem)
        {
            trust = [];
            trust.ImportFromPem(trustedPem);
        }
        else trust = _globalTrust;
        var depth = profile.Depth;
        options.RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
        {
            var host = (sender as SslStream)?.TargetHostName ?? "";
            var reason = UpstreamCertificateCheck.Reject(certificate, chain, errors, trust, depth);
            if (reason is not null) ProxyLog.UpstreamCertificateRejected(_logger, host, reason);
            return reason is null;
        };
        return options;
    }

    private static HeldBodyHandler CreateHandler(SslClientAuthenticationOptions ssl) => new(new SocketsHttpHandler
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
        SslOptions = ssl,
    });

    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var settings = context.InitialRequestMessage.Options.TryGetValue(ConnectSettings.Key, out var s) ? s : ConnectSettings.Default;
        // a traced request (dns_query) that needs a new connection to a host name: the lookup is made here, timed,
        // and the addresses it gave are connected to (as the socket would after its own lookup)
        var traced = context.InitialRequestMessage.Options.TryGetValue(DnsLookupProbe.Key, out var probe)
            && Uri.CheckHostName(context.DnsEndPoint.Host) == UriHostNameType.Dns
            ? await TracedLookup.ResolveAsync(context.DnsEndPoint, ct) : null;
        Exception? last = null;
        for (var attempt = 0; attempt <= settings.Retries; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(settings.Timeout);
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                if (traced is { Addresses: { } addresses }) await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, timeout.Token);
                else await socket.ConnectAsync(context.DnsEndPoint, timeout.Token);
                traced?.Report(probe!, (socket.RemoteEndPoint as IPEndPoint)?.Address);
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
        traced?.Report(probe!, null);
        throw new UpstreamConnectException(context.DnsEndPoint.ToString(), last!);
    }

    /// <summary>One lookup made for a traced request's new connection; reported to its <see cref="DnsLookupProbe"/>
    /// once the connection is made (with the address connected to) or failed.</summary>
    private sealed class TracedLookup(DnsEndPoint name, DateTime start, DateTime end, IPAddress[]? addresses, string? error)
    {
        public IPAddress[]? Addresses => addresses;

        public static async ValueTask<TracedLookup> ResolveAsync(DnsEndPoint name, CancellationToken ct)
        {
            var start = DateTime.UtcNow;
            try
            {
                var addresses = await Dns.GetHostAddressesAsync(name.Host, ct);
                return new TracedLookup(name, start, DateTime.UtcNow, addresses.Length > 0 ? addresses : null, addresses.Length > 0 ? null : "no address");
            }
            catch (SocketException e)
            {
                // the connect below meets the same failure through its own lookup, as without tracing
                return new TracedLookup(name, start, DateTime.UtcNow, null, e.Message);
            }
        }

        public void Report(DnsLookupProbe probe, IPAddress? connected)
        {
            var address = connected is { IsIPv4MappedToIPv6: true } ? connected.MapToIPv4() : connected ?? addresses?[0];
            probe.Record(new DnsLookup(name.Host, name.Port, error is null ? address?.ToString() : null, error, start, end));
        }
    }

    public void Dispose()
    {
        Invoker.Dispose();
        foreach (var invoker in _profiles.Values) invoker.Retire();
        _profiles.Clear();
    }

    /// <summary>
    /// A profile's invoker, counted so a retired one is disposed only after the requests that already hold it (from
    /// an older snapshot) have been sent. The owner holds one count; a request that finds it retired goes through
    /// the profile's current invoker instead.
    /// </summary>
    private sealed class ProfileInvoker(UpstreamConnector owner, UpstreamTlsProfile profile, HttpMessageHandler handler)
        : HttpMessageInvoker(handler, disposeHandler: true)
    {
        private int _count = 1;
        public override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (!TryAcquire()) return owner.For(profile).SendAsync(request, cancellationToken);
            Task<HttpResponseMessage> sent;
            try { sent = base.SendAsync(request, cancellationToken); }
            catch { Release(); throw; }
            if (sent.IsCompleted) Release();
            else sent.ContinueWith(static (_, state) => ((ProfileInvoker)state!).Release(), this, CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return sent;
        }

        public void Retire() => Release();

        private bool TryAcquire()
        {
            for (var count = Volatile.Read(ref _count); count > 0; count = Volatile.Read(ref _count))
                if (Interlocked.CompareExchange(ref _count, count + 1, count) == count) return true;
            return false;
        }

        private void Release()
        {
            if (Interlocked.Decrement(ref _count) == 0) Dispose();
        }
    }
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
