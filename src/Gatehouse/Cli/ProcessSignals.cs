using System.Runtime.InteropServices;

namespace Gatehouse.Cli;

/// <summary>Sends a POSIX signal to another process (.NET has no API for it besides SIGKILL).</summary>
internal static partial class ProcessSignals
{
    // Linux and macOS share these numbers
    public const int Hup = 1, Quit = 3, Kill = 9, Term = 15;

    public static bool Send(int pid, int signal) => SysKill(pid, signal) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);
}
