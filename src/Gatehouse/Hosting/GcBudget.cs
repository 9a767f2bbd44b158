using System.Runtime.InteropServices;

namespace Gatehouse.Hosting;

/// <summary>
/// The GC's gen0 allocation budget for <c>start</c>. Workstation GC sizes it from the L3 cache (4/5 of it: ~25 MB
/// on a 32 MB-L3 server), and the GC keeps that much committed between collections although a gateway's live heap
/// is a few MB: about 9 MB of a 117 MB G1 process (bench/NOTES.md, "#16 goal 4: memory"). The runtime reads the
/// budget only from the environment (<c>DOTNET_GCgen0size</c>; runtimeconfig.json has no key for it), before any
/// managed code runs, so <c>start</c> re-executes itself once, same pid and arguments, with the variable set.
/// An operator's own value wins (<c>DOTNET_GCgen0size=0</c> restores the runtime's default).
/// </summary>
internal static partial class GcBudget
{
    internal const string Variable = "DOTNET_GCgen0size";

    /// <summary>4 MiB, hex as the runtime parses it: smaller budgets commit no less (the GC's regions are 4 MiB).</summary>
    internal const string Gen0Size = "0x400000";

    /// <summary>On Linux, for <c>start</c> without the variable: execve of this process's own image and arguments
    /// with the variable added. Returns only when nothing is to be done or the exec failed (the process then runs
    /// with the runtime's default budget).</summary>
    public static void ApplyByReexec(string[] args)
    {
        if (!OperatingSystem.IsLinux() || args is not ["start", ..]) return;
        if (Environment.GetEnvironmentVariable(Variable) is not null || Environment.GetEnvironmentVariable("COMPlus_GCgen0size") is not null) return;
        string cmdline;
        try { cmdline = File.ReadAllText("/proc/self/cmdline"); }
        catch (IOException) { return; }
        catch (UnauthorizedAccessException) { return; }
        // the arguments exactly as this process got them: the apphost, or `dotnet gatehouse.dll`
        var argv = cmdline.TrimEnd('\0').Split('\0');
        var env = new List<string>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables()) env.Add($"{e.Key}={e.Value}");
        env.Add($"{Variable}={Gen0Size}");
        var argvPtrs = ToNative(argv);
        var envPtrs = ToNative(env);
        Exec("/proc/self/exe", argvPtrs, envPtrs); // returns only on failure
        Free(argvPtrs);
        Free(envPtrs);
    }

    private static nint[] ToNative(IReadOnlyList<string> strings)
    {
        var ptrs = new nint[strings.Count + 1]; // NULL-terminated, as execve wants
        for (var i = 0; i < strings.Count; i++) ptrs[i] = Marshal.StringToCoTaskMemUTF8(strings[i]);
        return ptrs;
    }

    private static void Free(nint[] ptrs)
    {
        foreach (var p in ptrs) if (p != 0) Marshal.FreeCoTaskMem(p);
    }

    [LibraryImport("libc", EntryPoint = "execve", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Exec(string path, nint[] argv, nint[] envp);
}
