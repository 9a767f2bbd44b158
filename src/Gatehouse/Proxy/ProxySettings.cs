using Gatehouse.Config;

namespace Gatehouse.Proxy;

/// <summary>Proxy-wide settings derived once from <see cref="GatehouseOptions"/>.</summary>
public sealed class ProxySettings
{
    public ProxyHeaders Headers { get; }
    /// <summary>"gatehouse/" + <see cref="GatehouseVersion.Current"/>, for Server.</summary>
    public string ServerToken { get; }
    /// <summary>"1.1 gatehouse/" + <see cref="GatehouseVersion.Current"/>, for Via.</summary>
    public string ViaToken { get; }

    public ProxySettings(GatehouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Headers = ProxyHeaderTokens.ToFlags(options.Headers);
        ServerToken = "gatehouse/" + GatehouseVersion.Current;
        ViaToken = "1.1 " + ServerToken;
        AllowDebugHeader = options.AllowDebugHeader;
        VerifiesClientCertificates = options.ClientCertificates.Verify != ClientCertificateVerify.Off && options.ProxyListen.Any(l => l.Ssl);
        RequestTempDirectory = Path.Combine(options.Prefix, "client_body_temp");
        ResponseTempDirectory = Path.Combine(options.Prefix, "proxy_temp");
        TracedSteps = TracingInstrumentations.Parse(options.TracingInstrumentations);
    }

    /// <summary>Where buffered request bodies beyond memory go (nginx's client_body_temp under the prefix).</summary>
    public string RequestTempDirectory { get; }
    /// <summary>Where buffered response bodies beyond memory go (nginx's proxy_temp under the prefix).</summary>
    public string ResponseTempDirectory { get; }

    public bool AllowDebugHeader { get; }

    /// <summary><c>tracing_instrumentations</c>: the steps that get spans when an opentelemetry plugin is configured.</summary>
    public TracedSteps TracedSteps { get; }

    /// <summary>nginx_proxy_ssl_verify_client is not off on an ssl proxy listener: requests check the connection's
    /// <see cref="ClientCertificateVerdict"/> (no lookup otherwise).</summary>
    public bool VerifiesClientCertificates { get; }

    public bool Has(ProxyHeaders flag) => (Headers & flag) != 0;
}
