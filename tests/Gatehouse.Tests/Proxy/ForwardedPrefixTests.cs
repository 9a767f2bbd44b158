using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Infrastructure.TestConfig;

namespace Gatehouse.Tests.Proxy;

/// <summary>X-Forwarded-Prefix carries the stripped prefix as Kong sends it: the normalised path's bytes (escapes
/// decoded, reserved ones such as %2F kept), seen on the wire by a raw upstream.</summary>
public sealed class ForwardedPrefixTests : IAsyncLifetime
{
    private GatewayFixture _gateway = null!;
    private ScriptedUpstream _upstream = null!;

    public async Task InitializeAsync()
    {
        _upstream = new ScriptedUpstream();
        _gateway = await GatewayFixture.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _upstream.Dispose();
    }

    [Theory]
    [InlineData("/api", "/%61pi/x", "/api")]
    [InlineData("/café", "/caf%C3%A9/x", "/caf\u00C3\u00A9")] // UTF-8 bytes C3 A9, one char per byte
    [InlineData("/x%FF", "/x%ff/y", "/x\u00FF")] // a byte that is not UTF-8
    [InlineData("/a%2Fb", "/a%2fb/c", "/a%2Fb")] // a reserved escape stays encoded, as Kong's normalize keeps it
    public async Task The_stripped_prefix_is_sent_decoded(string routePath, string target, string expected)
    {
        var service = Service("127.0.0.1", _upstream.Port);
        _gateway.Publish(Of([service], [Route(service, "r", paths: [routePath])]));
        var received = _upstream.Answer(ScriptedUpstream.Ok);
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, _gateway.ProxyUri.Port);
        await client.SendAsync(Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: a.test\r\n\r\n"));
        var head = (await received.WaitAsync(TimeSpan.FromSeconds(60))).Head;
        Assert.Contains($"\r\nX-Forwarded-Prefix: {expected}\r\n", head, StringComparison.Ordinal);
    }
}
