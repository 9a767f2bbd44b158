using System.Diagnostics;
using System.Globalization;

namespace Gatehouse.Hosting;

/// <summary>
/// <c>&lt;prefix&gt;/pids/gatehouse.pid</c> (Kong: <c>&lt;prefix&gt;/pids/nginx.pid</c>): the running node's process id,
/// written by <c>start</c> before it listens and removed when it exits cleanly; <c>stop</c>, <c>quit</c>,
/// <c>reload</c> and <c>restart</c> find the node by it. A file naming a live process other than this one means
/// the prefix is in use (Kong's "is already running" check); a stale one (the process is gone, or the id is this
/// process's own, as after a container restart) is replaced.
/// </summary>
public sealed class PidFile : IDisposable
{
    public const string RelativePath = "pids/gatehouse.pid";
    private readonly string _path;
    private readonly int _pid;

    private PidFile(string path, int pid)
    {
        _path = path;
        _pid = pid;
    }

    public static string PathIn(string prefix) => System.IO.Path.Combine(prefix, "pids", "gatehouse.pid");

    /// <summary>The live process the prefix's pid file names (never this process), or null.</summary>
    public static int? RunningPid(string prefix)
    {
        string text;
        try { text = File.ReadAllText(PathIn(prefix)).Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0) return null;
        if (pid == Environment.ProcessId) return null;
        return IsRunning(pid) ? pid : null;
    }

    public static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; } // no such process
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>Writes this process's id; throws <see cref="InvalidOperationException"/> when a live node holds the prefix.</summary>
    public static PidFile Acquire(string prefix)
    {
        if (RunningPid(prefix) is not null) throw new InvalidOperationException($"Gatehouse is already running in {prefix}");
        var path = PathIn(prefix);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var pid = Environment.ProcessId;
        File.WriteAllText(path, pid.ToString(CultureInfo.InvariantCulture) + "\n");
        return new PidFile(path, pid);
    }

    /// <summary>Removes the file if it still names this process.</summary>
    public void Dispose()
    {
        try
        {
            if (File.ReadAllText(_path).Trim() == _pid.ToString(CultureInfo.InvariantCulture)) File.Delete(_path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
