using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;

namespace Gatehouse.Plugins.Bundled.OpenTelemetry;

/// <summary>
/// A trace context read from the client's headers (Kong's extracted context). Every part may be missing: b3 may carry
/// only a sampling decision, aws only a parent. Ids are held as Kong holds them once extracted: the trace id as 16
/// bytes (shorter ids zero-padded on the left, longer ones cut to their last 16 bytes), span ids as 8 bytes; all-zero
/// ids count as missing.
/// </summary>
internal sealed record ExtractedContext(string Format)
{
    public UInt128? TraceId { get; init; }
    /// <summary>The trace id's size in bytes as the client sent it (8 for a 16-hex-digit b3 id): the injectors that
    /// allow both sizes keep it.</summary>
    public int TraceIdSize { get; init; }
    /// <summary>The client's span: the parent of the request span.</summary>
    public ulong? SpanId { get; init; }
    /// <summary>The client's span's parent (b3's and jaeger's shared-span model); the request span's parent only when
    /// the client sent no span id.</summary>
    public ulong? ParentId { get; init; }
    /// <summary>Null: the client did not decide.</summary>
    public bool? Sampled { get; init; }
    /// <summary>b3's <c>X-B3-Flags</c> (<c>1</c>: debug, also from the single header's <c>d</c>), injected back as such.</summary>
    public string? Flags { get; init; }
    /// <summary>b3 read from its single header: <c>preserve</c> then injects b3-single.</summary>
    public bool SingleHeader { get; init; }
    /// <summary>jaeger's <c>uberctx-*</c> or ot's <c>ot-baggage-*</c> items (key lower-case, value URI-decoded).</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Baggage { get; init; }

    /// <summary>Kong keeps an extraction only when it found something.</summary>
    public bool IsEmpty => TraceId is null && SpanId is null && ParentId is null && Sampled is null && Baggage is null && Format != "b3";

    public ActivitySpanId? RequestParent => (SpanId ?? ParentId) is { } id ? TraceIds.ToActivity(id) : null;
}

/// <summary>What is injected to the upstream: the trace, the span the upstream's work hangs under (the first
/// balancer try, or the request span), that span's parent, the decision, and what the extraction carried.</summary>
internal readonly record struct InjectContext(UInt128 TraceId, ulong SpanId, ulong? ParentId, bool Sampled, ExtractedContext? From);

/// <summary>Conversions between Kong's byte-string ids (big-endian) and <see cref="ActivityTraceId"/>/<see cref="ActivitySpanId"/>.</summary>
internal static class TraceIds
{
    public static ActivityTraceId ToActivity(UInt128 id)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, id);
        return ActivityTraceId.CreateFromBytes(bytes);
    }

    public static ActivitySpanId ToActivity(ulong id)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, id);
        return ActivitySpanId.CreateFromBytes(bytes);
    }

    public static UInt128 From(ActivityTraceId id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.CopyTo(bytes);
        return BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    public static ulong From(ActivitySpanId id)
    {
        Span<byte> bytes = stackalloc byte[8];
        id.CopyTo(bytes);
        return BinaryPrimitives.ReadUInt64BigEndian(bytes);
    }

    /// <summary>A random non-zero trace id, as <see cref="ActivityTraceId.CreateRandom"/> makes one but without the
    /// hex string an ActivityTraceId keeps (a request that is not sampled never needs it).</summary>
    public static UInt128 NewTraceId()
    {
        Span<byte> bytes = stackalloc byte[16];
        UInt128 id;
        do
        {
            Random.Shared.NextBytes(bytes);
            id = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        } while (id == 0);
        return id;
    }

    /// <summary>A random non-zero span id.</summary>
    public static ulong NewSpanId()
    {
        ulong id;
        do id = (ulong)Random.Shared.NextInt64() ^ ((ulong)Random.Shared.Next() << 63); while (id == 0);
        return id;
    }

    /// <summary>32 lower-case hex digits (the id's 16 bytes, big-endian), as <c>ToString("x32")</c> without its slow
    /// 128-bit formatting.</summary>
    public static string Hex(UInt128 id)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, id);
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>16 lower-case hex digits.</summary>
    public static string Hex(ulong id)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, id);
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>W3C's <c>traceparent</c> value, <c>00-&lt;trace&gt;-&lt;span&gt;-&lt;flags&gt;</c>, made in one string.</summary>
    public static string TraceParent(UInt128 trace, ulong span, bool sampled) =>
        string.Create(55, (trace, span, sampled), static (chars, state) =>
        {
            Span<byte> bytes = stackalloc byte[16];
            "00-".CopyTo(chars);
            BinaryPrimitives.WriteUInt128BigEndian(bytes, state.trace);
            Convert.TryToHexStringLower(bytes, chars[3..35], out _);
            chars[35] = '-';
            BinaryPrimitives.WriteUInt64BigEndian(bytes, state.span);
            Convert.TryToHexStringLower(bytes[..8], chars[36..52], out _);
            (state.sampled ? "-01" : "-00").CopyTo(chars[52..]);
        });

    public static bool IsHex(ReadOnlySpan<char> s)
    {
        foreach (var c in s) if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }

    /// <summary>Hex digits as Kong's from_hex then to_kong_trace_id: the last 16 bytes (32 digits) of the value.</summary>
    public static UInt128 TraceFromHex(ReadOnlySpan<char> hex) =>
        UInt128.Parse(hex.Length > 32 ? hex[^32..] : hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    /// <summary>Hex digits as to_kong_span_id: the last 8 bytes (16 digits).</summary>
    public static ulong SpanFromHex(ReadOnlySpan<char> hex) =>
        ulong.Parse(hex.Length > 16 ? hex[^16..] : hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    /// <summary>The size in bytes of an id written with this many hex digits (an odd count is padded with a 0).</summary>
    public static int HexSize(int digits) => (digits + 1) / 2;

    /// <summary>The size in bytes of a number's shortest big-endian encoding (Kong's bn to_binary).</summary>
    public static int ByteSize(UInt128 value) => (128 - (int)UInt128.LeadingZeroCount(value) + 7) / 8;
}
