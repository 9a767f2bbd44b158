using System.Collections.Frozen;
using System.IO.Pipelines;
using System.Net.Security;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Hosting;

/// <summary>
/// On <c>ssl</c> listeners, before the handshake: peeks at the client's ClientHello (nothing is consumed; the TLS
/// layer reads the same bytes) and keeps on the connection which ECDSA curves the client can verify, so the certificate
/// choice can present a certificate's ECDSA or RSA pair (<c>cert_alt</c>, the default's two) as OpenSSL does (<see cref="TlsCredentialPair"/>). A hello
/// that is fragmented, malformed or not TLS leaves no verdict (the RSA pair is presented) and goes on to the handshake,
/// which fails it or not as before; a client that sends nothing within the handshake timeout is closed.
/// </summary>
internal sealed class ClientHelloMiddleware
{
    internal const string ItemKey = "gatehouse.client-hello.ecdsa";
    private readonly TimeSpan _timeout;
    private readonly bool _tls13;
    private readonly Func<ushort, bool> _ecdsaSuite;
    // the verdicts boxed once (connection items hold objects)
    private readonly object[] _verdicts = [.. Enumerable.Range(0, (int)EcdsaCurves.All + 1).Select(v => (object)(EcdsaCurves)v)];

    /// <param name="tls">the listener's protocols and TLS 1.2 suites: an ECDSA suite counts only if the listener takes it</param>
    public ClientHelloMiddleware(TimeSpan timeout, ListenerTls tls)
    {
        _timeout = timeout;
        _tls13 = (tls.Protocols & System.Security.Authentication.SslProtocols.Tls13) != 0
            || tls.Protocols == System.Security.Authentication.SslProtocols.None;
        var ecdsaSuites = EcdsaSuites(tls.CipherSuites);
        _ecdsaSuite = ecdsaSuites.Contains;
    }

    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var input = connection.Transport.Input;
        CancellationTokenSource? deadline = null;
        try
        {
            while (true)
            {
                ReadResult read;
                if (!input.TryRead(out read))
                {
                    deadline ??= new CancellationTokenSource(_timeout); // only when the hello is not already here
                    try { read = await input.ReadAsync(deadline.Token); }
                    catch (OperationCanceledException) { return; }
                }
                var buffer = read.Buffer;
                var result = TlsClientHello.Examine(buffer, _ecdsaSuite, _tls13, out var accepted);
                if (result == TlsClientHello.Result.NeedMore && !read.IsCompleted)
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                    continue;
                }
                input.AdvanceTo(buffer.Start); // nothing consumed: the handshake reads the hello
                if (result == TlsClientHello.Result.Parsed) connection.Items[ItemKey] = _verdicts[(int)accepted];
                break;
            }
        }
        finally { deadline?.Dispose(); }
        await next(connection);
    }

    /// <summary>The wire codes of the ECDHE-ECDSA suites the listener accepts (all of them without a policy).</summary>
    private static FrozenSet<ushort> EcdsaSuites(CipherSuitesPolicy? policy)
    {
        IEnumerable<TlsCipherSuite> suites = Enum.GetValues<TlsCipherSuite>();
        if (policy is not null && !OperatingSystem.IsWindows()) suites = policy.AllowedCipherSuites;
        return suites.Where(s => s.ToString().StartsWith("TLS_ECDHE_ECDSA_", StringComparison.Ordinal)).Select(s => (ushort)s).ToFrozenSet();
    }
}
