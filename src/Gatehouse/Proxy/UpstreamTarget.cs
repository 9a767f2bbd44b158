using System.Net;
using Gatehouse.Model;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Proxy;

/// <summary>Per-service forwarding settings computed once per snapshot: destination prefix, Host header value,
/// YARP request config (read timeout as activity timeout, HTTP version) and connect settings.</summary>
public sealed class UpstreamTarget
{
    public ServiceModel Service { get; }
    /// <summary>scheme://host:port, without path.</summary>
    public string DestinationPrefix { get; }
    /// <summary>Host header sent upstream unless preserve_host: host, plus ":port" when not the scheme's default.</summary>
    public string HostHeader { get; }
    public ForwarderRequestConfig RequestConfig { get; }
    public ConnectSettings Connect { get; }
    /// <summary>grpc/grpcs: HTTP/2 upstream, bodies always streamed (Kong's @grpc location has no buffering).</summary>
    public bool IsGrpc { get; }
    /// <summary>The upstream the service's host names (Kong: the host is an upstream's name), balanced per try; null:
    /// the host itself is the destination.</summary>
    public BalancedUpstream? Upstream { get; }
    /// <summary>https towards the upstream (https, grpcs).</summary>
    public bool Tls { get; }
    /// <summary>True when <see cref="Connect"/> equals <see cref="ConnectSettings.Default"/>, which the connector
    /// assumes when a request carries none.</summary>
    internal bool HasDefaultConnect { get; }

    /// <summary>The invoker of the service's upstream TLS profile (verification, trust, client certificate); null:
    /// the connector's shared one (no verification, no client certificate).</summary>
    public HttpMessageInvoker? Invoker { get; }

    /// <summary>The last upstream URI sent to <see cref="DestinationPrefix"/> (requests of this snapshot).</summary>
    internal UpstreamUriCache UriCache { get; } = new();

    public UpstreamTarget(ServiceModel service, BalancedUpstream? upstream = null, HttpMessageInvoker? invoker = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        Service = service;
        Upstream = upstream;
        Invoker = invoker;
        var tls = Tls = service.Protocol is "https" or "grpcs";
        var scheme = tls ? "https" : "http";
        var host = service.Host.Contains(':') && !service.Host.StartsWith('[') ? $"[{service.Host}]" : service.Host;
        DestinationPrefix = $"{scheme}://{host}:{service.Port}";
        HostHeader = service.Port == (tls ? 443 : 80) ? host : $"{host}:{service.Port}";
        var grpc = IsGrpc = service.Protocol is "grpc" or "grpcs";
        RequestConfig = new ForwarderRequestConfig
        {
            ActivityTimeout = TimeSpan.FromMilliseconds(Math.Max(1, service.ReadTimeout)),
            Version = grpc ? HttpVersion.Version20 : HttpVersion.Version11,
            VersionPolicy = grpc ? HttpVersionPolicy.RequestVersionExact : HttpVersionPolicy.RequestVersionOrLower,
            AllowResponseBuffering = false,
        };
        // a balanced service retries on the next peer (ProxyRequestHandler), not on the same address
        Connect = new ConnectSettings(TimeSpan.FromMilliseconds(Math.Max(1, service.ConnectTimeout)), upstream is null ? Math.Max(0, service.Retries) : 0,
            TimeSpan.FromMilliseconds(Math.Max(1, service.WriteTimeout)));
        HasDefaultConnect = Connect == ConnectSettings.Default;
    }
}

/// <summary>How the shared connector opens a connection for a service: per-attempt timeout and number of retries
/// (connect failures only, as Kong's service.retries), and the per-write timeout of the connection (write_timeout;
/// a pooled connection keeps the value of the service that opened it).</summary>
public sealed record ConnectSettings(TimeSpan Timeout, int Retries, TimeSpan WriteTimeout)
{
    public static ConnectSettings Default { get; } = new(TimeSpan.FromSeconds(60), 5, TimeSpan.FromSeconds(60));
    internal static readonly HttpRequestOptionsKey<ConnectSettings> Key = new("gatehouse.connect");
}
