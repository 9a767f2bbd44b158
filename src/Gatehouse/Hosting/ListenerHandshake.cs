using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Gatehouse.Hosting;

/// <summary>
/// One <c>ssl</c> listener's handshake settings: the certificate chosen for the client's server name and ClientHello
/// (<see cref="ClientHelloMiddleware"/>), with ssl_protocols, the TLS 1.2 suites, ALPN and the client-certificate request.
/// The options are built once per certificate and reused by every handshake that presents it (building a certificate
/// context per handshake is what the selector callback costs).
/// </summary>
internal sealed class ListenerHandshake
{
    private readonly Func<string?, EcdsaCurves, TlsCredential?> _certificate;
    private readonly ListenerTls _tls;
    private readonly List<SslApplicationProtocol> _alpn;
    private readonly ClientCertificateVerifier? _clientCertificates;
    private readonly ConditionalWeakTable<TlsCredential, SslServerAuthenticationOptions> _options = new();
    private readonly ConditionalWeakTable<TlsCredential, SslServerAuthenticationOptions>.CreateValueCallback _build;

    public ListenerHandshake(Func<string?, EcdsaCurves, TlsCredential?> certificate, ListenerTls tls, HttpProtocols protocols,
        ClientCertificateVerifier? clientCertificates)
    {
        _certificate = certificate;
        _tls = tls;
        _alpn = protocols == HttpProtocols.Http1AndHttp2
            ? [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11]
            : [SslApplicationProtocol.Http11];
        _clientCertificates = clientCertificates;
        _build = Build;
    }

    public ValueTask<SslServerAuthenticationOptions> OnConnection(TlsHandshakeCallbackContext context)
    {
        var connection = context.Connection;
        var name = context.ClientHelloInfo.ServerName;
        // Kestrel exposes no SNI on the request: keep the name the client asked for on the connection
        if (!string.IsNullOrEmpty(name)) connection.Items[ListenerKinds.SniItemKey] = name;
        var accepted = connection.Items.TryGetValue(ClientHelloMiddleware.ItemKey, out var verdict) && verdict is EcdsaCurves curves
            ? curves : EcdsaCurves.None;
        var credential = _certificate(string.IsNullOrEmpty(name) ? null : name, accepted)
            ?? throw new System.Security.Authentication.AuthenticationException("no certificate for this listener");
        return ValueTask.FromResult(_options.GetValue(credential, _build));
    }

    private SslServerAuthenticationOptions Build(TlsCredential credential) => new()
    {
        ServerCertificateContext = credential.Context,
        EnabledSslProtocols = _tls.Protocols,
        // ssl_cipher_suite / ssl_ciphers: the TLS 1.2 suites accepted (TLS 1.3's are all safe)
        CipherSuitesPolicy = _tls.CipherSuites,
        ApplicationProtocols = _alpn,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        ClientCertificateRequired = _clientCertificates is not null,
        RemoteCertificateValidationCallback = _clientCertificates is null ? null : _clientCertificates.Validate,
    };
}
