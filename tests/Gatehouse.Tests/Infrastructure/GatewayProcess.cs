using System.Diagnostics;
using Gatehouse.Tests.Cli;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>
/// The real executable (<c>gatehouse start</c>, the <c>gatehouse.dll</c> built beside the tests) on loopback. Unlike
/// the in-process host it runs with the process-wide settings <c>start</c> applies (inline_io's socket event threads)
/// and can be killed with SIGKILL, which the isolation and <c>kill -9</c> tests need.
/// </summary>
internal sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string? _ownedDir;

    private GatewayProcess(Process process, int proxyPort, int? adminPort, SyncWriter output, string dir, string? ownedDir)
    {
        _process = process;
        _ownedDir = ownedDir;
        Dir = dir;
        ProxyUri = new Uri($"http://127.0.0.1:{proxyPort}");
        AdminUri = adminPort is { } port ? new Uri($"http://127.0.0.1:{port}") : null;
        Output = output;
    }

    public Uri ProxyUri { get; }

    /// <summary>The prefix; its <c>gatehouse.conf</c> is the conf the process started with.</summary>
    public string Dir { get; }
    public string ConfPath => Path.Combine(Dir, "gatehouse.conf");
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>Completes when the process has exited (a node stopped by a signal or a CLI command).</summary>
    public Task WaitForExitAsync(CancellationToken ct = default) => _process.WaitForExitAsync(ct);

    /// <summary>The Admin API, or null when it was started with <c>admin_listen = off</c>.</summary>
    public Uri? AdminUri { get; }

    /// <summary>What the process wrote to stdout and stderr.</summary>
    public SyncWriter Output { get; }

    /// <summary>A kong.yml with one service at <c>http://127.0.0.1:<paramref name="port"/></c> and one route on <c>/</c>.</summary>
    public static string OneRouteYml(int port) => $"""
        _format_version: "3.0"
        services:
          - name: echo
            url: http://127.0.0.1:{port}
            routes:
              - name: r
                paths: ["/"]
        """;

    /// <summary>The process's <c>/proc/PID/maps</c>: which files (assemblies, native libraries) it has mapped.</summary>
    public Task<string> MemoryMapsAsync() => File.ReadAllTextAsync($"/proc/{Pid}/maps");

    /// <summary>DB-less from <paramref name="kongYml"/>, with wasm filters from <paramref name="filtersDir"/> when given
    /// and the Admin API when <paramref name="admin"/>, in a temporary prefix removed on dispose. <paramref name="executable"/>:
    /// another build of <c>gatehouse</c> (a native one) instead of the <c>gatehouse.dll</c> beside the tests;
    /// <paramref name="extraConf"/>: more conf lines.</summary>
    public static async Task<GatewayProcess> StartDbLessAsync(string kongYml, string? filtersDir = null, bool admin = false,
        string? executable = null, string extraConf = "")
    {
        var dir = Directory.CreateTempSubdirectory("gatehouse-proc-").FullName;
        var declarative = Path.Combine(dir, "kong.yml");
        await File.WriteAllTextAsync(declarative, kongYml);
        var wasm = filtersDir is null ? "wasm = off" : $"wasm = on\nwasm_filters_path = {filtersDir}";
        return await StartAsync(dir, admin, $"database = off\ndeclarative_config = {declarative}\n{wasm}\n{extraConf}", ownsDir: true,
            executable: executable);
    }

    /// <summary>With <paramref name="extraConf"/> lines, in <paramref name="dir"/> (kept, so a restart finds what the
    /// last process left: pid file, node id, database). <paramref name="startArgs"/> follow <c>start -c CONF</c>
    /// (e.g. <c>--run-migrations</c>).</summary>
    public static Task<GatewayProcess> StartInAsync(string dir, string extraConf, bool admin = false, params string[] startArgs) =>
        StartAsync(dir, admin, extraConf, ownsDir: false, startArgs);

    /// <summary>As <see cref="StartInAsync"/>, the process inheriting <paramref name="ignoredSignals"/> (names, as the shell's
    /// <c>trap</c> takes them) ignored, as a background job of a script or a <c>nohup</c> does.</summary>
    public static Task<GatewayProcess> StartIgnoringAsync(string dir, string extraConf, string ignoredSignals) =>
        StartAsync(dir, admin: false, extraConf, ownsDir: false, ignoredSignals: ignoredSignals);

    /// <summary>On a SQLite store in <paramref name="dir"/> (kept, so a restart finds what the last process left).</summary>
    public static Task<GatewayProcess> StartSqliteAsync(string dir, string? executable = null) =>
        StartAsync(dir, admin: true, "database = sqlite", ownsDir: false, executable: executable);

    /// <summary>Starts with fresh ports, again when the ones picked were taken meanwhile (they are bound and released to
    /// find free ones, so another socket may grab one first).</summary>
    private static async Task<GatewayProcess> StartAsync(string dir, bool admin, string conf, bool ownsDir, string[]? startArgs = null,
        string? ignoredSignals = null, string? executable = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            try { return await StartOnceAsync(dir, admin, conf, ownsDir, startArgs ?? [], ignoredSignals, executable); }
            catch (AddressInUseException) when (attempt < 3) { }
        }
    }

    private sealed class AddressInUseException(string message) : Exception(message);

    private static async Task<GatewayProcess> StartOnceAsync(string dir, bool admin, string extraConf, bool ownsDir, string[] startArgs,
        string? ignoredSignals, string? executable)
    {
        var proxyPort = EchoUpstream.FreePort();
        int? adminPort = admin ? EchoUpstream.FreePort() : null;
        var conf = Path.Combine(dir, "gatehouse.conf");
        await File.WriteAllTextAsync(conf, $"""
            prefix = {dir}
            proxy_listen = 127.0.0.1:{proxyPort}
            admin_listen = {(adminPort is { } port ? $"127.0.0.1:{port}" : "off")}
            proxy_access_log = off
            log_level = error
            admin_gui_listen = off
            {extraConf}

            """);
        var output = new SyncWriter();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var command = Command(executable);
        // with ignored signals: a shell sets them ignored and execs the node in its place (same pid, dispositions kept)
        if (ignoredSignals is not null) command = ["/bin/sh", "-c", $"trap '' {ignoredSignals}; exec \"$0\" \"$@\"", .. command];
        var process = new Process
        {
            StartInfo = new ProcessStartInfo(command[0], [.. command[1..], "start", "-c", conf, .. startArgs])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            },
        };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            output.WriteLine(e.Data);
            if (e.Data.Contains("started", StringComparison.Ordinal)) started.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.WriteLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        if (await Task.WhenAny(started.Task, exited, Task.Delay(TimeSpan.FromSeconds(90))) != started.Task)
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.Dispose();
            var text = output.ToString();
            if (text.Contains("address already in use", StringComparison.OrdinalIgnoreCase)) throw new AddressInUseException(text);
            if (ownsDir) TryDelete(dir);
            throw new InvalidOperationException("the gateway did not start:\n" + text);
        }
        return new GatewayProcess(process, proxyPort, adminPort, output, dir, ownsDir ? dir : null);
    }

    /// <summary>Runs <c>gatehouse ARGS</c> to its end (e.g. a <c>start</c> that must fail) and returns its exit code and
    /// what it wrote to stdout and to stderr, each whole.</summary>
    public static Task<(int ExitCode, string StdOut, string StdErr)> RunToExitAsync(params string[] args) => RunToExitWithAsync(null, args);

    /// <summary>As <see cref="RunToExitAsync"/>, with <paramref name="executable"/> instead of the <c>gatehouse.dll</c> beside
    /// the tests when given.</summary>
    public static async Task<(int ExitCode, string StdOut, string StdErr)> RunToExitWithAsync(string? executable, params string[] args)
    {
        var command = Command(executable);
        using var process = new Process
        {
            StartInfo = new ProcessStartInfo(command[0], [.. command[1..], .. args])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            },
        };
        process.Start();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("gatehouse did not exit:\n" + await stdout + await stderr);
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The program and its first arguments: <c>dotnet gatehouse.dll</c> (the build beside the tests), or a
    /// native executable alone.</summary>
    private static string[] Command(string? executable) =>
        executable is null ? ["dotnet", Path.Combine(AppContext.BaseDirectory, "gatehouse.dll")] : [executable];

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill9()
    {
        _process.Kill(); // on Unix, Process.Kill sends SIGKILL
        _process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        if (_ownedDir is not null) TryDelete(_ownedDir);
    }

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }
}
