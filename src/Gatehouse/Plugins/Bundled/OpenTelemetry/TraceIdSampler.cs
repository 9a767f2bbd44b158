using System.Buffers.Binary;
using System.Diagnostics;

namespace Gatehouse.Plugins.Bundled.OpenTelemetry;

/// <summary>
/// Kong's probability sampler (kong/pdk/tracing.lua): decided by the trace id alone, so every node and every hop
/// with the same rate agrees. The trace id's first 8 bytes, read as an unsigned 64-bit integer in the machine's
/// (little-endian) order as Kong's FFI cast reads them, are compared with <c>rate × 2^64</c>. A rate ≥ 1 always
/// samples, ≤ 0 never.
/// </summary>
internal static class TraceIdSampler
{
    public static bool Sample(ActivityTraceId traceId, double rate) => Sample(TraceIds.From(traceId), rate);

    /// <summary>For an id held as Kong's 16 bytes (big-endian): its first 8 bytes read little-endian are the top 64 bits
    /// with their bytes reversed.</summary>
    public static bool Sample(UInt128 traceId, double rate)
    {
        if (rate >= 1) return true;
        if (rate <= 0) return false;
        return BinaryPrimitives.ReverseEndianness((ulong)(traceId >> 64)) < Bound(rate);
    }

    /// <summary>The first value not sampled at <paramref name="rate"/> (0 &lt; rate &lt; 1).</summary>
    public static ulong Bound(double rate) => (ulong)(rate * 18446744073709551616.0);

    /// <summary>Kong's decision for a request (get_sampling_decision): a parent that said "not sampled" wins; a parent
    /// that said "sampled", or none, leaves it to the rate.</summary>
    public static bool Decide(bool? parentSampled, UInt128 traceId, double rate) =>
        parentSampled != false && Sample(traceId, rate);
}
