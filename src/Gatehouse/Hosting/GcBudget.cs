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
        byte[] cmdline, environ;
        try
        {
            // byte for byte as this process got them: the apphost or `dotnet gatehouse.dll`, and its environment
            cmdline = File.ReadAllBytes("/proc/self/cmdline");
            environ = File.ReadAllBytes("/proc/self/environ");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        var argv = Split(cmdline);
        var env = Split(environ);
        env.Add(System.Text.Encoding.UTF8.GetBytes($"{Variable}={Gen0Size}"));
        var argvPtrs = ToNative(argv);
        var envPtrs = ToNative(env);
        Exec("/proc/self/exe", argvPtrs, envPtrs); // returns only on failure
        Free(argvPtrs);
        Free(envPtrs);
    }

    /// <summary>The NUL-terminated strings of a /proc file (an empty argument stays one).</summary>
    private static List<byte[]> Split(byte[] block)
    {
        var strings = new List<byte[]>();
        for (int start = 0, i = 0; i < block.Length; i++)
        {
            if (block[i] != 0) continue;
            strings.Add(block[start..i]);
            start = i + 1;
        }
        return strings;
    }

    private static nint[] ToNative(List<byte[]> strings)
    {
        var ptrs = new nint[strings.Count + 1]; // NULL-terminated, as execve wants
        for (var i = 0; i < strings.Count; i++)
        {
            ptrs[i] = Marshal.AllocHGlobal(strings[i].Length + 1);
            Marshal.Copy(strings[i], 0, ptrs[i], strings[i].Length);
            Marshal.WriteByte(ptrs[i], strings[i].Length, 0);
        }
        return ptrs;
    }

    private static void Free(nint[] ptrs)
    {
        foreach (var p in ptrs) if (p != 0) Marshal.FreeHGlobal(p);
    }

    [LibraryImport("libc", EntryPoint = "execve", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Exec(string path, nint[] argv, nint[] envp);
}
