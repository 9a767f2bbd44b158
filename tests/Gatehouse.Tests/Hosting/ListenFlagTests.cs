using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Tests.Infrastructure;

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
