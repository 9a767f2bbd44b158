using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;

namespace Gatehouse.Proxy.Balancing.Health;

/// <summary>What one probe found: connected (TCP type), an HTTP status (0: not a status line), a TCP failure
/// (refused, reset, closed before the status line, TLS handshake failed), a timeout, or nothing (stopped).</summary>
internal readonly record struct ProbeOutcome(HealthReport? Failure, int? Status)
{
    public static ProbeOutcome Connected => new(HealthReport.Success, null);
    public static ProbeOutcome TcpFailure => new(HealthReport.TcpFailure, null);
    public static ProbeOutcome TimedOut => new(HealthReport.Timeout, null);
    public static ProbeOutcome Stopped => new(null, null);
    public static ProbeOutcome HttpStatus(int status) => new(null, status);
}

/// <summary>
/// One active probe as lua-resty-healthcheck sends it: connect to the peer's address, for https a TLS handshake
/// (SNI: <c>https_sni</c>, else the host name), then <c>GET http_path HTTP/1.1</c> with <c>Host</c> (the upstream's
/// host_header, else the target's host name, without port), <c>Connection: close</c> and the configured headers,
/// and read only the status line. The whole probe has <c>timeout</c>, on the checker's clock.
/// </summary>
internal sealed class ActiveProbe(ActiveHealthCheck settings, string? hostHeader, TimeProvider time)
{
    private const int MaxStatusLine = 1024;
    private readonly string _headerLines = string.Concat(settings.Headers.SelectMany(
        h => h.Value.Select(v => $"{h.Key}: {v}\r\n")));

    public async Task<ProbeOutcome> RunAsync(BalancerPeer peer, CancellationToken stop)
    {
        using var timeout = new CancellationTokenSource(settings.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stop);
        using var socket = new Socket(peer.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(peer.Address, peer.Port), linked.Token).ConfigureAwait(false);
            if (settings.Type == HealthCheckType.Tcp) return ProbeOutcome.Connected;
            await using var network = new NetworkStream(socket, ownsSocket: false);
            Stream stream = network;
            var host = hostHeader ?? HostName(peer.Target);
            if (hostHeader is null && host.Contains(':')) host = $"[{host}]"; // an IPv6 literal target
            if (settings.Type == HealthCheckType.Https)
            {
                var tls = new SslStream(network, leaveInnerStreamOpen: true);
                stream = tls;
                // host_header may carry a port; a server name never does
                var options = new SslClientAuthenticationOptions { TargetHost = settings.HttpsSni ?? HostName(host) };
                if (!settings.HttpsVerifyCertificate) options.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
                try
                {
                    await tls.AuthenticateAsClientAsync(options, linked.Token).ConfigureAwait(false);
                }
                catch (AuthenticationException)
                {
                    return ProbeOutcome.TcpFailure; // Kong counts a failed handshake as a TCP failure
                }
            }
            await using (stream.ConfigureAwait(false))
            {
                var request = $"GET {settings.HttpPath} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{_headerLines}\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(request), linked.Token).ConfigureAwait(false);
                var line = await ReadStatusLineAsync(stream, linked.Token).ConfigureAwait(false);
                return line is null ? ProbeOutcome.TcpFailure : ProbeOutcome.HttpStatus(ParseStatus(line));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return ProbeOutcome.Stopped;
        }
        catch (OperationCanceledException)
        {
            return ProbeOutcome.TimedOut;
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            return timeout.IsCancellationRequested ? ProbeOutcome.TimedOut : ProbeOutcome.TcpFailure;
        }
    }

    /// <summary>The first line of the response, or null when the connection closed before it ended.</summary>
    private static async Task<string?> ReadStatusLineAsync(Stream stream, CancellationToken ct)
    {
        var buffer = new byte[MaxStatusLine];
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(filled), ct).ConfigureAwait(false);
            if (read == 0) return null;
            var end = Array.IndexOf(buffer, (byte)'\n', filled, read);
            filled += read;
            if (end >= 0) return Encoding.ASCII.GetString(buffer, 0, end).TrimEnd('\r');
        }
        return Encoding.ASCII.GetString(buffer, 0, filled);
    }

    /// <summary>The status of <c>HTTP/x.y NNN ...</c>; 0 (an HTTP failure, as Kong counts it) for anything else.</summary>
    private static int ParseStatus(string line)
    {
        var parts = line.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        return parts.Length >= 2 && parts[0].StartsWith("HTTP/", StringComparison.OrdinalIgnoreCase)
            && parts[1].Length == 3 && int.TryParse(parts[1], out var status) ? status : 0;
    }

    /// <summary>The host part of a target (<c>host:port</c>, <c>[v6]:port</c> or a bare host).</summary>
    internal static string HostName(string target)
    {
        if (target.StartsWith('['))
        {
            var close = target.IndexOf(']');
            return close > 0 ? target[1..close] : target;
        }
        var colon = target.LastIndexOf(':');
        return colon > 0 && target.IndexOf(':') == colon ? target[..colon] : target;
    }
}
