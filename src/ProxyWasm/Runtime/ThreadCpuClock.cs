using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ProxyWasm.Runtime;

/// <summary>
/// CPU time consumed by the calling thread, in nanoseconds (Linux <c>CLOCK_THREAD_CPUTIME_ID</c>); other platforms
/// fall back to the wall clock. Lets the per-callback deadline count CPU actually used by the guest, so a loaded
/// machine that deschedules the thread does not kill a healthy VM.
/// </summary>
internal static partial class ThreadCpuClock
{
    private const int ClockThreadCpuTimeId = 3;
    private static readonly bool UseThreadClock = OperatingSystem.IsLinux() && Probe();

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clockId, out Timespec time);

    /// <summary>True when the measurement is real thread CPU time.</summary>
    public static bool IsThreadCpuTime => UseThreadClock;

    public static long NowNanoseconds()
    {
        if (UseThreadClock && ClockGetTime(ClockThreadCpuTimeId, out var t) == 0) return t.Seconds * 1_000_000_000 + t.Nanoseconds;
        return (long)(Stopwatch.GetTimestamp() * (1_000_000_000.0 / Stopwatch.Frequency));
    }

    private static bool Probe()
    {
        try
        {
            return ClockGetTime(ClockThreadCpuTimeId, out _) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }
}
