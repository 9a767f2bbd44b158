using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Config;
using Gatehouse.Model;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using static Gatehouse.Tests.Infrastructure.TestConfig;

namespace Gatehouse.Tests.Hosting;

/// <summary>
/// A certificate with <c>cert_alt</c>/<c>key_alt</c> on a real TLS proxy listener, as nginx with an RSA and an ECDSA
/// <c>ssl_certificate</c>: the ECDSA pair goes to a client that can verify it (TLS 1.3: an ECDSA scheme of its curve in
/// signature_algorithms; TLS 1.2: an ECDHE-ECDSA suite offered), the RSA pair to the others and to any hello that
/// cannot be read whole. Also: the chain in <c>cert</c> is sent whole.
/// </summary>
public sealed class AlternativeCertificateTests : IAsyncDisposable
{
    private const string Name = "alt.test";
    private static readonly PemPair RsaPair = TestCertificates.Rsa("CN=rsa.alt.test");
    private static readonly PemPair EcdsaPair = TestCertificates.Ecdsa("CN=ecdsa.alt.test");
    private readonly string _dir = Directory.CreateTempSubdirectory("gatehouse-alt-").FullName;

    [Theory]
    [InlineData(false)] // cert RSA, cert_alt ECDSA
    [InlineData(true)] // cert ECDSA, cert_alt RSA
    public async Task A_TLS_1_3_client_gets_the_ECDSA_pair_when_its_signature_algorithms_allow_it_else_the_RSA_pair(bool ecdsaFirst)
    {
        await using var gateway = await StartWithAlternativeAsync(ecdsaFirst);
        var port = gateway.ProxyUri.Port;

        Assert.Equal("CN=ecdsa.alt.test", await PresentedAsync(port, Name, System.Security.Authentication.SslProtocols.Tls13));
        Assert.Equal("CN=rsa.alt.test", await OpensslSubjectAsync(port, "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256:rsa_pss_pss_sha256"));
        Assert.Equal("CN=ecdsa.alt.test", await OpensslSubjectAsync(port, "-tls1_3", "-sigalgs", "ecdsa_secp256r1_sha256"));
        // an ECDSA scheme of another curve does not verify a P-256 key
        Assert.Equal("CN=rsa.alt.test", await OpensslSubjectAsync(port, "-tls1_3", "-sigalgs", "ecdsa_secp384r1_sha384:rsa_pss_rsae_sha256"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // a client cipher policy is a Linux/macOS feature
    public async Task A_TLS_1_2_client_gets_the_ECDSA_pair_when_it_offers_an_ECDHE_ECDSA_suite_else_the_RSA_pair(bool ecdsaFirst)
    {
        await using var gateway = await StartWithAlternativeAsync(ecdsaFirst);
        var port = gateway.ProxyUri.Port;

        Assert.Equal("CN=rsa.alt.test", await Tls12SubjectAsync(port, TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256));
        Assert.Equal("CN=ecdsa.alt.test", await Tls12SubjectAsync(port,
            TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256));
        Assert.Equal("CN=ecdsa.alt.test", await Tls12SubjectAsync(port,
            TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256));
        // suites that allow ECDSA but signature_algorithms without any ECDSA scheme: RSA
        Assert.Equal("CN=rsa.alt.test", await OpensslSubjectAsync(port, "-tls1_2", "-sigalgs", "RSA+SHA256:RSA-PSS+SHA256"));
    }

    /// <summary>A ClientHello split over two TLS records is valid TLS but not read: the RSA pair is presented, the
    /// handshake succeeds. Broken hellos and silence do not stop the listener: the next connection is served.</summary>
    [Fact]
    public async Task A_fragmented_hello_gets_the_RSA_pair_and_malformed_hellos_do_not_break_the_listener()
    {
        await using var gateway = await StartWithAlternativeAsync(ecdsaFirst: true);
        var port = gateway.ProxyUri.Port;

        Assert.Equal("CN=rsa.alt.test", await PresentedAsync(port, Name, System.Security.Authentication.SslProtocols.Tls13, splitHello: true));

        byte[][] malformed =
        [
            [22, 3, 1], // a record header cut short
            [22, 3, 1, 0x40, 0x01, 1, 0, 0], // a record longer than TLS allows
            [22, 3, 1, 0, 8, 1, 0, 0, 200, 3, 3, 0, 0], // a hello longer than its record
            [22, 3, 1, 0, 6, 1, 0, 0, 2, 3, 3], // a hello that ends inside the random
            [22, 3, 1, 0, 41, 1, 0, 0, 37, 3, 3, .. new byte[32], 0, 0, 3], // an odd cipher-suites vector cut short
            [22, 3, 1, 0, 20, 1], // a record announced and not sent (the client closes first)
            "GET / HTTP/1.1\r\n\r\n"u8.ToArray(), // not TLS at all
        ];
        foreach (var bytes in malformed)
        {
            using var raw = new TcpClient();
            await raw.ConnectAsync(IPAddress.Loopback, port);
            var stream = raw.GetStream();
            await stream.WriteAsync(bytes);
            raw.Client.Shutdown(SocketShutdown.Send);
            var buffer = new byte[512];
            try { while (await stream.ReadAsync(buffer) > 0) { } } // the gateway ends it (alert or close)
            catch (IOException) { }
        }

        Assert.Equal("CN=ecdsa.alt.test", await PresentedAsync(port, Name, System.Security.Authentication.SslProtocols.Tls13));
        Assert.Equal("CN=rsa.alt.test", await OpensslSubjectAsync(port, "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256"));
    }

    /// <summary>Kong serves the chain of <c>cert</c>: a leaf issued by an intermediate verifies for a client that trusts
    /// only the root (the intermediate travels in the handshake).</summary>
    [Fact]
    public async Task The_intermediates_in_cert_are_sent_so_a_client_trusting_only_the_root_verifies()
    {
        var root = TestCertificates.Ca("CN=Alt Root");
        var intermediate = TestCertificates.Issued(root, "CN=Alt Intermediate", ca: true);
        var leaf = TestCertificates.IssuedFor(intermediate, "chain.test");
        var certificate = new CertificateModel { Id = Guid.NewGuid(), Cert = leaf.Cert + "\n" + intermediate.Cert, Key = leaf.Key };
        await using var gateway = await StartAsync();
        gateway.Publish(Of([], []) with
        {
            Certificates = [certificate],
            Snis = [new SniModel { Id = Guid.NewGuid(), Name = "chain.test", CertificateId = certificate.Id }],
        });

        using var rootCertificate = X509Certificate2.CreateFromPem(root.Cert);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, gateway.ProxyUri.Port);
        var errors = SslPolicyErrors.None;
        await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, e) => { errors = e; return true; });
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        policy.CustomTrustStore.Add(rootCertificate);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "chain.test", CertificateChainPolicy = policy });
        Assert.Equal("CN=chain.test", tls.RemoteCertificate!.Subject);
        Assert.Equal(SslPolicyErrors.None, errors);
    }

    /// <summary>Through the Admin API on SQLite: a certificate with an alternative pair is served by key type, and a
    /// PATCH of <c>cert_alt</c>/<c>key_alt</c> is what the next handshake presents.</summary>
    [Fact]
    public async Task An_alternative_pair_written_through_the_Admin_API_is_served_and_its_rotation_applies_on_the_next_handshake()
    {
        await using var host = await TlsTestHosts.StartOnSqliteAsync(_dir);
        var port = host.Addresses(Gatehouse.Proxy.ListenerKind.Proxy)[0].Port;
        using var admin = new HttpClient { BaseAddress = host.Addresses(Gatehouse.Proxy.ListenerKind.Admin)[0] };

        var (status, created) = await AdminCalls.SendAsync(admin, Json(HttpMethod.Post, "/certificates",
            new { cert = RsaPair.Cert, key = RsaPair.Key, cert_alt = EcdsaPair.Cert, key_alt = EcdsaPair.Key, snis = new[] { Name } }));
        Assert.Equal(201, status);
        Assert.Equal("CN=ecdsa.alt.test", await PresentedAsync(port, Name, System.Security.Authentication.SslProtocols.Tls13));
        Assert.Equal("CN=rsa.alt.test", await OpensslSubjectAsync(port, "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256"));

        var rotated = TestCertificates.Ecdsa("CN=rotated.alt.test");
        var (patched, _) = await AdminCalls.SendAsync(admin, Json(HttpMethod.Patch, $"/certificates/{created!["id"]}",
            new { cert_alt = rotated.Cert, key_alt = rotated.Key }));
        Assert.Equal(200, patched);
        Assert.Equal("CN=rotated.alt.test", await PresentedAsync(port, Name, System.Security.Authentication.SslProtocols.Tls13));
        Assert.Equal("CN=rsa.alt.test", await OpensslSubjectAsync(port, "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256"));
    }

    /// <summary>Kong's two defaults: with no ssl_cert, an RSA and an ECDSA self-signed pair are generated under the
    /// prefix and presented by key type, on the proxy and on the status listener alike.</summary>
    [Fact]
    public async Task Without_ssl_cert_the_default_has_an_RSA_and_an_ECDSA_pair_chosen_by_key_type()
    {
        var text = "proxy_listen = 127.0.0.1:0 ssl\nadmin_listen = off\nstatus_listen = 127.0.0.1:0 ssl\n";
        await using var host = await TlsTestHosts.StartFromConfAsync(text, _dir);
        Assert.True(File.Exists(Path.Combine(_dir, "ssl", "gatehouse-default-ecdsa.crt")));
        Assert.True(File.Exists(Path.Combine(_dir, "ssl", "gatehouse-default-ecdsa.key")));
        foreach (var kind in new[] { Gatehouse.Proxy.ListenerKind.Proxy, Gatehouse.Proxy.ListenerKind.Status })
        {
            var port = host.Addresses(kind)[0].Port;
            Assert.Equal("ECDSA", await OpensslPeerSignatureAsync(port, "-tls1_3"));
            Assert.Equal("RSA-PSS", await OpensslPeerSignatureAsync(port, "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256"));
        }
    }

    private async Task<GatewayFixture> StartWithAlternativeAsync(bool ecdsaFirst)
    {
        var (first, second) = ecdsaFirst ? (EcdsaPair, RsaPair) : (RsaPair, EcdsaPair);
        var certificate = new CertificateModel { Id = Guid.NewGuid(), Cert = first.Cert, Key = first.Key, CertAlt = second.Cert, KeyAlt = second.Key };
        var gateway = await StartAsync();
        gateway.Publish(Of([], []) with
        {
            Certificates = [certificate],
            Snis = [new SniModel { Id = Guid.NewGuid(), Name = Name, CertificateId = certificate.Id }],
        });
        return gateway;
    }

    private async Task<GatewayFixture> StartAsync()
    {
        var (cert, key) = await TlsTestHosts.WriteDefaultCertificateAsync(_dir);
        return await GatewayFixture.StartAsync(configure: o => o with
        {
            ProxyListen = [ListenAddress.Parse("127.0.0.1:0 ssl")],
            SslCert = cert,
            SslCertKey = key,
        });
    }

    private static async Task<string> PresentedAsync(int port, string serverName, System.Security.Authentication.SslProtocols protocols, bool splitHello = false)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        Stream transport = splitHello ? new FirstRecordSplitter(tcp.GetStream()) : tcp.GetStream();
        await using var tls = new SslStream(transport, leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = serverName, EnabledSslProtocols = protocols });
        return tls.RemoteCertificate!.Subject;
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static async Task<string> Tls12SubjectAsync(int port, params TlsCipherSuite[] offered)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = Name, EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12,
            CipherSuitesPolicy = new CipherSuitesPolicy(offered),
        });
        return tls.RemoteCertificate!.Subject;
    }

    /// <summary>The "Peer signature type" openssl s_client reports (ECDSA, RSA-PSS, ...).</summary>
    private static async Task<string> OpensslPeerSignatureAsync(int port, params string[] options)
    {
        var stdout = await OpensslAsync(port, options);
        var line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith("Peer signature type: ", StringComparison.Ordinal));
        Assert.True(line is not null, "no peer signature type: " + stdout);
        return line["Peer signature type: ".Length..].Trim();
    }

    /// <summary>openssl s_client, which can restrict the signature schemes it offers (.NET's client cannot): the
    /// subject of the certificate the gateway presented.</summary>
    private static async Task<string> OpensslSubjectAsync(int port, params string[] options)
    {
        var stdout = await OpensslAsync(port, options);
        var subject = stdout.Split('\n').FirstOrDefault(l => l.StartsWith("subject=", StringComparison.Ordinal));
        Assert.True(subject is not null, "no certificate: " + stdout);
        return subject["subject=".Length..].Replace(" ", "", StringComparison.Ordinal);
    }

    private static async Task<string> OpensslAsync(int port, string[] options)
    {
        var start = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in (string[])["s_client", "-connect", $"127.0.0.1:{port}", "-servername", Name, .. options]) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return stdout + await stderr;
    }

    private static HttpRequestMessage Json(HttpMethod method, string path, object body) => new(method, path)
    {
        Content = new StringContent(System.Text.Json.JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json"),
    };

    public ValueTask DisposeAsync()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
        return ValueTask.CompletedTask;
    }

    /// <summary>Sends the client's first TLS record (its ClientHello) as two records of the same content type, which
    /// TLS allows and the server reassembles; everything after passes unchanged.</summary>
    private sealed class FirstRecordSplitter(Stream inner) : Stream
    {
        private bool _split;

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_split || buffer.Length < 6)
            {
                await inner.WriteAsync(buffer, cancellationToken);
                return;
            }
            _split = true;
            var bytes = buffer.ToArray();
            var length = (bytes[3] << 8) | bytes[4];
            Assert.Equal(5 + length, bytes.Length); // the hello came in one write, as one record
            var half = length / 2;
            var output = new byte[bytes.Length + 5];
            bytes.AsSpan(0, 5).CopyTo(output);
            output[3] = (byte)(half >> 8);
            output[4] = (byte)half;
            bytes.AsSpan(5, half).CopyTo(output.AsSpan(5));
            bytes.AsSpan(0, 3).CopyTo(output.AsSpan(5 + half));
            output[5 + half + 3] = (byte)((length - half) >> 8);
            output[5 + half + 4] = (byte)(length - half);
            bytes.AsSpan(5 + half).CopyTo(output.AsSpan(10 + half));
            await inner.WriteAsync(output, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();
        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
