using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Gatehouse.Hosting;

/// <summary>
/// The PROXY protocol header a load balancer puts before a connection's first byte (HAProxy's spec, v1 text and
/// v2 binary), as nginx reads it for <c>listen … proxy_protocol</c>. <see cref="TryParse"/> looks at the start of
/// the buffered input: a complete header gives its length and the client address it names (null for v1
/// <c>UNKNOWN</c>, v2 <c>LOCAL</c> or another address family: the connection's own peer stays the client).
/// </summary>
internal static class ProxyProtocolHeader
{
    /// <summary>v1 headers are at most 107 bytes (spec §2.1).</summary>
    private const int MaxV1Length = 107;
    private static ReadOnlySpan<byte> V2Signature => [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    internal enum Result { Complete, NeedMore, Invalid }

    /// <summary>Bounds what a v2 header may carry after its 16 bytes (addresses and TLVs).</summary>
    private const int MaxV2Payload = 4096;

    public static Result TryParse(ReadOnlySequence<byte> input, out int length, out IPEndPoint? client)
    {
        length = 0;
        client = null;
        if (input.IsEmpty) return Result.NeedMore;
        var first = input.FirstSpan[0];
        if (first == (byte)'P')
        {
            Span<byte> v1 = stackalloc byte[(int)Math.Min(input.Length, MaxV1Length)];
            input.Slice(0, v1.Length).CopyTo(v1);
            return ParseV1(v1, out length, out client);
        }
        if (first != 0x0D) return Result.Invalid;
        Span<byte> fixedPart = stackalloc byte[16];
        if (input.Length < 16)
        {
            input.CopyTo(fixedPart);
            return NeedMoreIfPrefix(fixedPart[..(int)input.Length], V2Signature);
        }
        input.Slice(0, 16).CopyTo(fixedPart);
        var payload = BinaryPrimitives.ReadUInt16BigEndian(fixedPart[14..16]);
        if (payload > MaxV2Payload) return Result.Invalid;
        if (input.Length < 16 + payload) return Result.NeedMore;
        var whole = new byte[16 + payload]; // once per connection, on proxy_protocol listeners only
        input.Slice(0, whole.Length).CopyTo(whole);
        return ParseV2(whole, out length, out client);
    }

    private static Result ParseV1(ReadOnlySpan<byte> head, out int length, out IPEndPoint? client)
    {
        length = 0;
        client = null;
        var end = head.IndexOf("\r\n"u8);
        if (end < 0) return head.Length >= MaxV1Length ? Result.Invalid : NeedMoreIfPrefix(head, "PROXY "u8);
        if (end + 2 > MaxV1Length) return Result.Invalid;
        var parts = Encoding.ASCII.GetString(head[..end]).Split(' ');
        length = end + 2;
        if (parts.Length < 2 || parts[0] != "PROXY") return Result.Invalid;
        if (parts[1] == "UNKNOWN") return Result.Complete;
        if (parts.Length != 6 || parts[1] is not ("TCP4" or "TCP6")
            || !IPAddress.TryParse(parts[2], out var source) || !IPAddress.TryParse(parts[3], out _)
            || !ushort.TryParse(parts[4], out var port) || !ushort.TryParse(parts[5], out _)
            || (parts[1] == "TCP4") != (source.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork))
            return Result.Invalid;
        client = new IPEndPoint(source, port);
        return Result.Complete;
    }

    private static Result ParseV2(ReadOnlySpan<byte> head, out int length, out IPEndPoint? client)
    {
        length = 0;
        client = null;
        if (!head[..12].SequenceEqual(V2Signature) || head[12] >> 4 != 2) return Result.Invalid;
        var command = head[12] & 0x0F;
        var addressLength = head.Length - 16;
        length = head.Length;
        if (command == 0) return Result.Complete; // LOCAL: the balancer's own connection (health check)
        if (command != 1) return Result.Invalid;
        var addresses = head.Slice(16, addressLength);
        switch (head[13] >> 4)
        {
            case 1 when addresses.Length >= 12: // AF_INET
                client = new IPEndPoint(new IPAddress(addresses[..4]), BinaryPrimitives.ReadUInt16BigEndian(addresses[8..10]));
                break;
            case 2 when addresses.Length >= 36: // AF_INET6
                client = new IPEndPoint(new IPAddress(addresses[..16]), BinaryPrimitives.ReadUInt16BigEndian(addresses[32..34]));
                break;
            case 1 or 2:
                return Result.Invalid;
        }
        return Result.Complete;
    }

    private static Result NeedMoreIfPrefix(ReadOnlySpan<byte> head, ReadOnlySpan<byte> prefix)
    {
        var n = Math.Min(head.Length, prefix.Length);
        return head[..n].SequenceEqual(prefix[..n]) ? Result.NeedMore : Result.Invalid;
    }
}
