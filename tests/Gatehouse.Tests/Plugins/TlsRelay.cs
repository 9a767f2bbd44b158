using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Tests.Plugins;

/// <summary>A TLS front for a plain TCP server (e.g. redis-server, which Debian builds without TLS): terminates TLS on
/// 127.0.0.1 with a fresh self-signed certificate for <see cref="CertificateName"/> and pipes the bytes to the target
/// port. Records the SNI name of each completed handshake.</summary>
internal sealed class TlsRelay : IDisposable
{
    public const string CertificateName = "redis.test";
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly X509Certificate2 _certificate = SelfSigned();
    private readonly int _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _serverNames = new();

    private TlsRelay(int target)
    {
        _target = target;
        _listener.Start();
        _ = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    /// <summary>The SNI name of each completed handshake ("" when the client sent none).</summary>
    public IReadOnlyList<string> ServerNames => [.. _serverNames];

    public static TlsRelay Start(int targetPort) => new(targetPort);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { return; }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        {
            await using var tls = new SslStream(client.GetStream());
            try
            {
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, _stop.Token);
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
            {
                return; // the client refused the certificate or went away
            }
            _serverNames.Enqueue(tls.TargetHostName);
            using var upstream = new TcpClient();
            try
            {
                await upstream.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
                var plain = upstream.GetStream();
                await Task.WhenAny(tls.CopyToAsync(plain, _stop.Token), plain.CopyToAsync(tls, _stop.Token));
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException) { }
        }
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={CertificateName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(CertificateName);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _certificate.Dispose();
        _stop.Dispose();
    }
}
