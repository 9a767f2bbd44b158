using System.Buffers;
using System.Net.Security;
using Gatehouse.Hosting;

namespace Gatehouse.Tests.Hosting;

/// <summary>The ClientHello reader on a real hello written by .NET's TLS client: read whole (also when the bytes
/// arrive in several buffers), and never a throw or a verdict for a cut or corrupted one.</summary>
public sealed class TlsClientHelloTests
{
    private static readonly Func<ushort, bool> AnyEcdsaSuite = suite => suite is 0xC02B or 0xC02C or 0xC009 or 0xC00A or 0xC023 or 0xC024;

    [Fact]
    public async Task A_whole_hello_is_read_and_every_cut_or_corruption_is_need_more_or_unknown_without_a_throw()
    {
        var hello = await CaptureHelloAsync(System.Security.Authentication.SslProtocols.Tls13);

        Assert.Equal(TlsClientHello.Result.Parsed, TlsClientHello.Examine(new ReadOnlySequence<byte>(hello), AnyEcdsaSuite, tls13: true, out var accepted));
        Assert.True(accepted.HasFlag(EcdsaCurves.P256)); // .NET offers ecdsa_secp256r1_sha256

        for (var cut = 0; cut < hello.Length; cut++)
            Assert.NotEqual(TlsClientHello.Result.Parsed, TlsClientHello.Examine(new ReadOnlySequence<byte>(hello, 0, cut), AnyEcdsaSuite, true, out _));
        for (var at = 0; at < hello.Length; at++)
        {
            var corrupted = (byte[])hello.Clone();
            corrupted[at] ^= 0xFF;
            TlsClientHello.Examine(new ReadOnlySequence<byte>(corrupted), AnyEcdsaSuite, true, out _); // must not throw
            // the same bytes in two buffers give the same answer as in one
            var whole = TlsClientHello.Examine(new ReadOnlySequence<byte>(corrupted), AnyEcdsaSuite, true, out var one);
            var split = TlsClientHello.Examine(TwoSegments(corrupted, at), AnyEcdsaSuite, true, out var two);
            Assert.Equal(whole, split);
            Assert.Equal(one, two);
        }
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task A_TLS_1_2_hello_counts_ECDSA_only_when_an_ECDSA_suite_is_offered()
    {
        var rsaOnly = await CaptureHelloAsync(System.Security.Authentication.SslProtocols.Tls12, TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256);
        var withEcdsa = await CaptureHelloAsync(System.Security.Authentication.SslProtocols.Tls12,
            TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);

        Assert.Equal(TlsClientHello.Result.Parsed, TlsClientHello.Examine(new ReadOnlySequence<byte>(rsaOnly), AnyEcdsaSuite, true, out var none));
        Assert.Equal(EcdsaCurves.None, none);
        Assert.Equal(TlsClientHello.Result.Parsed, TlsClientHello.Examine(new ReadOnlySequence<byte>(withEcdsa), AnyEcdsaSuite, true, out var all));
        Assert.Equal(EcdsaCurves.All, all);
        // the listener does not take the client's ECDSA suite: RSA
        Assert.Equal(TlsClientHello.Result.Parsed, TlsClientHello.Examine(new ReadOnlySequence<byte>(withEcdsa), _ => false, true, out var refused));
        Assert.Equal(EcdsaCurves.None, refused);
    }

    /// <summary>The first bytes .NET's TLS client sends (its ClientHello); the handshake is then abandoned.</summary>
    private static async Task<byte[]> CaptureHelloAsync(System.Security.Authentication.SslProtocols protocols, params TlsCipherSuite[] suites)
    {
        var capture = new CaptureStream();
        await using var tls = new SslStream(capture);
        var options = new SslClientAuthenticationOptions { TargetHost = "hello.test", EnabledSslProtocols = protocols };
        if (suites.Length > 0 && !OperatingSystem.IsWindows()) options.CipherSuitesPolicy = new CipherSuitesPolicy(suites);
        await Assert.ThrowsAnyAsync<IOException>(() => tls.AuthenticateAsClientAsync(options));
        return capture.Written!;
    }

    private static ReadOnlySequence<byte> TwoSegments(byte[] bytes, int at)
    {
        var first = new Segment(bytes.AsMemory(0, at), 0);
        var second = first.Append(bytes.AsMemory(at));
        return new ReadOnlySequence<byte>(first, 0, second, second.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    /// <summary>Keeps the first write and fails it, so the handshake stops after the ClientHello.</summary>
    private sealed class CaptureStream : MemoryStream
    {
        public byte[]? Written { get; private set; }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Written ??= buffer.ToArray();
            throw new IOException("captured");
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();
    }
}
