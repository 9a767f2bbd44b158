using System.Runtime.InteropServices;

namespace Gatehouse.Cli;

/// <summary>Sends a POSIX signal to another process (.NET has no API for it besides SIGKILL), and makes sure a node can
/// receive the signals the CLI controls it with.</summary>
internal static partial class ProcessSignals
{
    // Linux and macOS share these numbers
    public const int Hup = 1, Quit = 3, Kill = 9, Term = 15;

    public static bool Send(int pid, int signal) => SysKill(pid, signal) == 0;

    /// <summary>Gives <c>quit</c>'s SIGQUIT, <c>reload</c>'s SIGHUP and <c>stop</c>'s SIGTERM back their default disposition
    /// when this process inherited them ignored (a node started as a background job of a script inherits SIGQUIT and
    /// SIGINT ignored, under <c>nohup</c> SIGHUP): .NET does not handle a signal that was ignored when the process began,
    /// so <c>gatehouse quit</c> timed out and killed such a node. nginx likewise sets its own handlers for these whatever it
    /// inherited. SIGINT keeps an inherited ignore: that is how a shell keeps Ctrl-C away from its background jobs.
    /// Call before registering the handlers.</summary>
    public static unsafe void UnignoreControlSignals()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        // struct sigaction begins with the handler on Linux and macOS; the rest (mask, flags) is not read, 256 bytes hold it
        var current = stackalloc byte[256];
        foreach (var signal in (int[])[Hup, Quit, Term])
            if (SysSigaction(signal, null, current) == 0 && *(IntPtr*)current == SigIgnore) SysSignal(signal, SigDefault);
    }

    private static readonly IntPtr SigDefault = IntPtr.Zero, SigIgnore = 1;

    [LibraryImport("libc", EntryPoint = "sigaction", SetLastError = true)]
    private static unsafe partial int SysSigaction(int signal, byte* action, byte* previous);

    [LibraryImport("libc", EntryPoint = "signal", SetLastError = true)]
    private static partial IntPtr SysSignal(int signal, IntPtr handler);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);
}
