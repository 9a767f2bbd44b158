using System.Globalization;
using System.Runtime.InteropServices;

/// <summary>
/// The same bytes-allocated figure for a process that is not this tool (bench/proxy-floor.sh's G1): started with
/// <c>DOTNET_STARTUP_HOOKS=proxyfloor.dll</c> and <c>PROXYFLOOR_ALLOC_FILE=PATH</c>, the process writes
/// <c>GC.GetTotalAllocatedBytes(precise: true)</c> to PATH whenever it gets SIGWINCH (ignored by default, so harmless).
/// Nothing else runs in that process; the runtime calls <see cref="Initialize"/> before its Main.
/// </summary>
public static class StartupHook
{
    // kept alive for the life of the process: the registration is undone when collected
    private static PosixSignalRegistration? s_registration;

    public static void Initialize()
    {
        var path = Environment.GetEnvironmentVariable("PROXYFLOOR_ALLOC_FILE");
        if (string.IsNullOrEmpty(path) || !OperatingSystem.IsLinux()) return;
        s_registration = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, context =>
        {
            context.Cancel = true;
            File.WriteAllText(path + ".tmp", GC.GetTotalAllocatedBytes(precise: true).ToString(CultureInfo.InvariantCulture));
            File.Move(path + ".tmp", path, overwrite: true);
        });
    }
}
