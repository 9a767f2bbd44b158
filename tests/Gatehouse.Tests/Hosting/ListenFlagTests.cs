using Gatehouse.Proxy;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gatehouse.Config;
using Gatehouse.Hosting;
using System.Text;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Infrastructure.TestConfig;

namespace Gatehouse.Tests.Hosting;

/// <summary>The listen flags Gatehouse accepts, observed on the real listening sockets (Linux).</summary>
public sealed class ListenFlagTests
{
    [Theory]
    [InlineData("127.0.0.1:0 reuseport", true)]
    [InlineData("127.0.0.1:0", false)]
    public async Task Reuseport_lets_a_second_socket_bind_the_same_port(string listen, bool shared)
    {
        await using var gateway = await StartAsync(listen);
        var port = gateway.Host.Addresses(ListenerKind.Proxy).Single().Port;
        using var second = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        second.SetRawSocketOption(1, 15, BitConverter.GetBytes(1)); // SOL_SOCKET, SO_REUSEPORT (Linux)
        var bind = () => second.Bind(new IPEndPoint(IPAddress.Loopback, port));
        if (shared) bind();
        else Assert.Equal(SocketError.AddressAlreadyInUse, Assert.Throws<SocketException>(bind).SocketErrorCode);
    }

    [Fact]
    public async Task Backlog_sets_each_entrys_listen_queue()
    {
        await using var gateway = await StartAsync("127.0.0.1:0 backlog=77", "127.0.0.1:0 backlog=99", "127.0.0.1:0");
        var ports = gateway.Host.Addresses(ListenerKind.Proxy).Select(u => u.Port).ToArray();
        // for a listening socket, ss reports the maximum queue length as Send-Q
        Assert.Equal([77, 99, 512], ports.Select(ListenQueueLength));
    }

    [Theory]
    [InlineData("[::]:0", false)]
    [InlineData("[::]:0 ipv6only=on", false)]
    [InlineData("[::]:0 ipv6only=off", true)]
    public async Task Ipv6only_decides_whether_the_ipv6_wildcard_takes_ipv4_clients(string listen, bool ipv4)
    {
        await using var gateway = await StartAsync(listen);
        var port = gateway.Host.Addresses(ListenerKind.Proxy).Single().Port;
        using var v6 = new TcpClient(AddressFamily.InterNetworkV6);
        await v6.ConnectAsync(IPAddress.IPv6Loopback, port);
        using var v4 = new TcpClient(AddressFamily.InterNetwork);
        var connect = () => v4.ConnectAsync(IPAddress.Loopback, port);
        if (ipv4) await connect();
        else Assert.Equal(SocketError.ConnectionRefused, (await Assert.ThrowsAsync<SocketException>(connect)).SocketErrorCode);
    }

    public static TheoryData<string, byte[], string> ProxyHeaders => new()
    {
        { "v1 TCP4", Encoding.ASCII.GetBytes("PROXY TCP4 203.0.113.7 10.0.0.1 5555 8000\r\n"), "203.0.113.7" },
        { "v1 TCP6", Encoding.ASCII.GetBytes("PROXY TCP6 2001:db8::5 2001:db8::1 5555 8000\r\n"), "2001:db8::5" },
        { "v1 UNKNOWN", Encoding.ASCII.GetBytes("PROXY UNKNOWN\r\n"), "127.0.0.1" },
        { "v2 TCP4", V2(0x21, 0x11, [198, 51, 100, 9, 10, 0, 0, 1, 0x15, 0xB3, 0x1F, 0x40]), "198.51.100.9" },
        { "v2 TCP6", V2(0x21, 0x21, [.. IPAddress.Parse("2001:db8::9").GetAddressBytes(), .. IPAddress.IPv6Loopback.GetAddressBytes(), 0x15, 0xB3, 0x1F, 0x40]), "2001:db8::9" },
        { "v2 LOCAL", V2(0x20, 0x00, []), "127.0.0.1" },
    };

    private static byte[] V2(byte versionCommand, byte family, byte[] addresses) =>
        [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, versionCommand, family,
            (byte)(addresses.Length >> 8), (byte)addresses.Length, .. addresses];

    [Theory]
    [MemberData(nameof(ProxyHeaders))]
    public async Task Proxy_protocol_makes_the_named_address_the_client(string name, byte[] header, string client)
    {
        using var upstream = new ScriptedUpstream();
        await using var gateway = await StartAsync("127.0.0.1:0 proxy_protocol");
        var service = Service("127.0.0.1", upstream.Port);
        gateway.Publish(Of([service], [Route(service, "r", paths: ["/"])]));
        var received = upstream.Answer(ScriptedUpstream.Ok);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, gateway.Host.Addresses(ListenerKind.Proxy).Single().Port);
        await socket.SendAsync(header);
        await socket.SendAsync("GET /who HTTP/1.1\r\nHost: a.test\r\n\r\n"u8.ToArray());
        var head = (await received.WaitAsync(TimeSpan.FromSeconds(60))).Head;
        Assert.True(head.Contains($"\r\nX-Real-IP: {client}\r\n", StringComparison.Ordinal), name + ": " + head);
        Assert.Contains($"\r\nX-Forwarded-For: {client}\r\n", head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_protocol_header_comes_before_the_tls_handshake()
    {
        var dir = Directory.CreateTempSubdirectory("gatehouse-pp-tls-").FullName;
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=pp.test", rsa,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using (var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1)))
            File.WriteAllText(Path.Combine(dir, "cert.pem"), cert.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "key.pem"), rsa.ExportPkcs8PrivateKeyPem());
        using var upstream = new ScriptedUpstream();
        await using var gateway = await GatewayFixture.StartAsync(configure: o => o with
        {
            ProxyListen = [ListenAddress.Parse("127.0.0.1:0 ssl proxy_protocol")],
            SslCert = Path.Combine(dir, "cert.pem"),
            SslCertKey = Path.Combine(dir, "key.pem"),
        });
        var service = Service("127.0.0.1", upstream.Port);
        gateway.Publish(Of([service], [Route(service, "r", paths: ["/"])]));
        var received = upstream.Answer(ScriptedUpstream.Ok);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, gateway.Host.Addresses(ListenerKind.Proxy).Single().Port);
        await socket.SendAsync("PROXY TCP4 192.0.2.44 10.0.0.1 5555 8443\r\n"u8.ToArray());
        await using var tls = new System.Net.Security.SslStream(new NetworkStream(socket), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync("pp.test");
        await tls.WriteAsync("GET /tls HTTP/1.1\r\nHost: pp.test\r\n\r\n"u8.ToArray());
        var head = (await received.WaitAsync(TimeSpan.FromSeconds(60))).Head;
        Assert.Contains("\r\nX-Real-IP: 192.0.2.44\r\n", head, StringComparison.Ordinal);
        Assert.Contains("\r\nX-Forwarded-Proto: https\r\n", head, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")]
    [InlineData("PROXY TCP4 not-an-ip 10.0.0.1 5555 8000\r\nGET / HTTP/1.1\r\nHost: a.test\r\n\r\n")]
    public async Task Proxy_protocol_closes_a_connection_without_a_valid_header(string data)
    {
        await using var gateway = await StartAsync("127.0.0.1:0 proxy_protocol");
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, gateway.Host.Addresses(ListenerKind.Proxy).Single().Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(data));
        var buffer = new byte[1024];
        // nginx's "broken header": closed without an answer (a reset if the close met unread bytes)
        int received;
        try { received = await socket.ReceiveAsync(buffer).WaitAsync(TimeSpan.FromSeconds(60)); }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset) { received = 0; }
        Assert.Equal(0, received);
    }

    private static Task<GatewayFixture> StartAsync(params string[] listen) =>
        GatewayFixture.StartAsync(configure: o => o with { ProxyListen = [.. listen.Select(ListenAddress.Parse)] });

    private static int ListenQueueLength(int port)
    {
        using var ss = Process.Start(new ProcessStartInfo("ss", ["-Hltn", $"sport = :{port}"]) { RedirectStandardOutput = true })!;
        var line = ss.StandardOutput.ReadToEnd().Trim();
        ss.WaitForExit();
        // State Recv-Q Send-Q Local Peer
        return int.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2], System.Globalization.CultureInfo.InvariantCulture);
    }
}
