using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ProxyWasm.Abi;
using ProxyWasm.Contexts;
using Wasmtime;

namespace ProxyWasm.Runtime;

/// <summary>
/// One VM: a Wasmtime <see cref="Store"/> + <see cref="Instance"/> of a module, serving one filter entry.
/// A VM holds the HTTP contexts of many concurrent requests (each with its own context id, under one root context)
/// and runs one guest callback at a time: every host→guest call happens with <see cref="Gate"/> held, and the gate
/// is never held across an await. Store data is this object, so host functions find the current context through
/// <c>Caller.GetData()</c> (no ambient state). A trap kills the VM: the request whose callback trapped fails, the
/// other requests' contexts are orphaned (their next callback runs on a fresh context of another VM, see
/// <see cref="Contexts.StreamContext.Orphaned"/>), and the owning plugin replaces it.
/// </summary>
internal sealed partial class WasmVm : IDisposable
{
    private readonly Dictionary<int, ContextBase> _contexts = new();
    private readonly List<StreamContext> _touched = new();
    private TimeSpan _deadline;
    private long _deadlineNanoseconds;
    private long _checkCpuStart = -1;
    private long _checkWallStart;
    private TimeSpan _pacedFor;
    private bool _paceSlowCalls;
    private bool _requestTime;
    private readonly Action<WasmVm>? _onDeath;
    private int _nextContextId = 1;
    private List<string>? _startupLog;
    private readonly System.Text.StringBuilder?[] _stdio = new System.Text.StringBuilder?[3];
    private string? _lastStderr;
    private bool _disposed;
    private bool _inInitialization;

    public WasmVm(WasmHost host, FilterModule module, FilterPluginConfig config, Action<WasmVm>? onDeath)
    {
        Host = host;
        Module = module;
        Config = config;
        _onDeath = onDeath;
        Logger = host.CreateFilterLogger(config.Name);
        Stats = host.FilterStats.For(config.Name);
        Store = new Store(host.Engine, this);
        Store.SetLimits(memorySize: config.Limits.MaxMemoryBytes);
        Store.SetEpochDeadlineCallback(_ => OnEpochDeadline());
        UseDeadline(config.Limits.StartDeadline, paced: false);
    }

    /// <summary>
    /// True for the throw-away VM of <see cref="WasmHost.Validate(FilterModule, FilterPluginConfig)"/>: it must leave no
    /// lasting mark on process-wide state that running VMs own (e.g. it never becomes a shared queue's owner).
    /// </summary>
    public bool IsScratch { get; init; }

    /// <summary>Held for the duration of each synchronous guest call (never across awaits).</summary>
    public VmGate Gate { get; } = new();

    public WasmHost Host { get; }

    public FilterModule Module { get; }

    public FilterPluginConfig Config { get; }

    /// <summary>The filter's host figures, shared by all its VMs (a scratch VM records nothing).</summary>
    public FilterStats Stats { get; }

    public AbiVersion Abi => Module.AbiVersion;

    public ILogger Logger { get; }

    public Store Store { get; }

    public Memory? Memory { get; private set; }

    /// <summary>Header names read from this guest, interned (host calls run under the gate).</summary>
    public NameCache HeaderNames { get; } = new();

    public GuestExports Exports { get; private set; } = null!;

    public RootContext? Root { get; private set; }

    public Wasmtime.Instance? Instance { get; private set; }

    /// <summary>
    /// Calls any export under the normal guarded-call rules with <paramref name="context"/> current. Used by the
    /// conformance suite to drive host functions with exact arguments; returns the i32 result or null.
    /// </summary>
    internal int? InvokeExport(ContextBase? context, string export, params ValueBox[] args)
    {
        using (Gate.Hold())
        {
            var fn = Instance?.GetFunction(export) ?? throw new ArgumentException($"no export {export}");
            int result = Call(context, export, (fn, args), static s => s.fn.Invoke(s.args) is int i ? i : 0, 0, out var ok);
            return ok ? result : null;
        }
    }

    public bool IsDead { get; private set; }

    /// <summary>Requests with a context on this VM (the owning plugin's gate guards it): picks the least loaded VM.</summary>
    public int Leases { get; set; }

    public string? DeathReason { get; private set; }

    /// <summary>Context the running callback was invoked for (null during VM init = "VM context").</summary>
    public ContextBase? Current { get; private set; }

    /// <summary>Set by <c>proxy_set_effective_context</c>; reset at every host→guest call.</summary>
    public ContextBase? Effective { get; set; }

    /// <summary>The context host calls act on (spec §2.5).</summary>
    public ContextBase? Active => Effective ?? Current;

    public int LiveContextCount => _contexts.Count;

    public bool TryGetContext(int id, out ContextBase context) => _contexts.TryGetValue(id, out context!);

    /// <summary>True while the guest allocator runs (re-entered from a host function).</summary>
    public bool InAllocator { get; private set; }

    /// <summary>
    /// Re-entrant call of the guest allocator from inside a host function; traps propagate. While it runs only
    /// the host calls of <see cref="Abi.HostFunctionTable.AllowedDuringAllocation"/> are permitted (cpp-host
    /// <c>MallocWithHostcall</c>): an allocator must not act on contexts.
    /// </summary>
    public int Allocate(int size)
    {
        InAllocator = true;
        try
        {
            return Exports.Allocate!(size);
        }
        finally
        {
            InAllocator = false;
        }
    }

    public void Touch(StreamContext context)
    {
        if (!_touched.Contains(context)) _touched.Add(context);
    }

    /// <summary>Runs one guest callback for <paramref name="context"/>; <paramref name="ok"/> is false when the VM died.</summary>
    public int Call<TState>(ContextBase? context, string callback, TState state, Func<TState, int> body, int defaultResult, out bool ok)
    {
        ok = false;
        if (IsDead) return defaultResult;
        Current = context;
        Effective = null;
        _lastStderr = null;
        ArmDeadline();
        int result = defaultResult;
        var started = Stopwatch.GetTimestamp();
        try
        {
            result = body(state);
            ok = true;
        }
        catch (Exception ex)
        {
            if (_inInitialization && IsCleanExit(ex)) ok = true;
            else
            {
                if (!IsScratch) Stats.RecordFailure(IsDeadline(ex));
                Kill($"{callback}: {Describe(ex)}");
            }
        }
        finally
        {
            FlushStdio();
            Current = null;
            Effective = null;
        }
        if (!IsScratch) Stats.RecordCallback(callback, Stopwatch.GetTimestamp() - started);
        SettleTouched();
        return result;
    }

    public bool CallVoid(ContextBase? context, string callback, Action<int>? fn, int a)
    {
        if (fn is null) return !IsDead;
        Call(context, callback, (fn, a), static s => { s.fn(s.a); return 0; }, 0, out var ok);
        return ok;
    }

    public bool CallVoid(ContextBase? context, string callback, Action<int, int>? fn, int a, int b)
    {
        if (fn is null) return !IsDead;
        Call(context, callback, (fn, a, b), static s => { s.fn(s.a, s.b); return 0; }, 0, out var ok);
        return ok;
    }

    public int CallFunc(ContextBase? context, string callback, Func<int, int>? fn, int a, int defaultResult, out bool ok)
    {
        if (fn is null) { ok = !IsDead; return defaultResult; }
        return Call(context, callback, (fn, a), static s => s.fn(s.a), defaultResult, out ok);
    }

    public int CallFunc(ContextBase? context, string callback, Func<int, int, int>? fn, int a, int b, int defaultResult, out bool ok)
    {
        if (fn is null) { ok = !IsDead; return defaultResult; }
        return Call(context, callback, (fn, a, b), static s => s.fn(s.a, s.b), defaultResult, out ok);
    }

    public int CallFunc(ContextBase? context, string callback, Func<int, int, int, int>? fn, int a, int b, int c, int defaultResult, out bool ok)
    {
        if (fn is null) { ok = !IsDead; return defaultResult; }
        return Call(context, callback, (fn, a, b, c), static s => s.fn(s.a, s.b, s.c), defaultResult, out ok);
    }

    /// <summary>Selects the budget of the following calls (start-up vs per-callback).</summary>
    private void UseDeadline(TimeSpan deadline, bool paced)
    {
        _deadline = deadline;
        // start-up calls (language runtimes initialising) run at full speed; request-time callbacks are paced
        _requestTime = paced;
        _paceSlowCalls = paced && Config.Limits.SlowCallCpuShare < 1 && ThreadCpuClock.IsThreadCpuTime;
        _deadlineNanoseconds = (long)(deadline.TotalMilliseconds * 1_000_000);
    }

    /// <summary>
    /// Per top-level call: the first epoch tick after entry only starts the CPU stopwatch (callbacks shorter than a
    /// tick never pay for it); every later tick compares the thread's CPU time since then with the budget. A
    /// wall-clock cap of 10 × the budget also stops a guest that is blocked rather than computing.
    /// </summary>
    private void ArmDeadline()
    {
        _checkCpuStart = -1;
        _pacedFor = TimeSpan.Zero;
        // the store's deadline is "the epoch at arming + 1": while no tick came since the last arming it is still that,
        // and re-arming would only cost a native call per callback. A tick in progress that the count does not show yet
        // makes the deadline fire at once, which only starts the CPU stopwatch — as that tick would have.
        var ticks = Host.EpochTicks;
        if (ticks != _armedAtTick || _deadlineMoved)
        {
            Store.SetEpochDeadline(1);
            _armedAtTick = ticks;
            _deadlineMoved = false;
        }
        Host.NoteGuestCall();
    }

    private long _armedAtTick = -1;

    // OnEpochDeadline ran (and set a new deadline relative to a later epoch): arm afresh on the next call
    private bool _deadlineMoved;

    private ulong OnEpochDeadline()
    {
        _deadlineMoved = true;
        long cpu = ThreadCpuClock.NowNanoseconds();
        long wall = System.Diagnostics.Stopwatch.GetTimestamp();
        if (_checkCpuStart < 0)
        {
            _checkCpuStart = cpu;
            _checkWallStart = wall;
            return 1;
        }
        long used = cpu - _checkCpuStart;
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(_checkWallStart, wall);
        // the wall-clock cap is for a guest that is blocked rather than computing: time we paced it does not count
        if (used >= _deadlineNanoseconds || elapsed - _pacedFor > _deadline * 10)
            throw new DeadlineExceededException(_deadline, used);
        if (_requestTime && used >= SlowCallNanoseconds)
        {
            Owner?.NoteSlowCall();
            if (_paceSlowCalls && used >= _deadlineNanoseconds / 4) PaceSlowCall(used, elapsed);
        }
        return 1;
    }

    /// <summary>CPU a request-time callback may use before it counts as slow: far above any healthy callback
    /// (microseconds), far below a deadline; measured in CPU time, so a short call descheduled on a busy machine is
    /// never mistaken for one.</summary>
    private const long SlowCallNanoseconds = 2_000_000;

    /// <summary>The plugin this VM serves (null for a validation VM): told about slow callbacks.</summary>
    public FilterPlugin? Owner { get; init; }

    /// <summary>
    /// A callback on a pool thread that has used a quarter of its deadline sleeps between ticks so that, from then on,
    /// it averages at most <see cref="WasmLimits.SlowCallCpuShare"/> of a core on its way to the deadline instead of
    /// taking a core from every other request. On another thread (an embedder's event loop) it is not paced: there
    /// it must end soon.
    /// </summary>
    private void PaceSlowCall(long usedNanoseconds, TimeSpan elapsed)
    {
        if (!Thread.CurrentThread.IsThreadPoolThread) return;
        var due = TimeSpan.FromTicks((long)(usedNanoseconds / 100 / Config.Limits.SlowCallCpuShare)) - elapsed;
        if (due <= TimeSpan.Zero) return;
        if (due > _deadline) due = _deadline;
        // a blocking Task.Wait, not Thread.Sleep: the thread pool sees the blocked thread and adds another, so paced
        // callbacks on pool threads do not starve the requests queued behind them
        Task.Delay(due).Wait();
        _pacedFor += due;
    }

    /// <summary>
    /// Marks the VM dead (a trap, a deadline, <c>proc_exit</c>): timers stop, pending calls are cancelled, the owner is
    /// told. Only the request whose callback was running (<see cref="Current"/>) fails; the other requests' contexts
    /// are orphaned — their next callback runs on a fresh context of a live VM (ngx_wasm_module recycles a trapped
    /// instance the same way) — except a context paused in a phase (its pending state, e.g. an HTTP call, was in this
    /// instance): that phase fails (fail policy).
    /// </summary>
    public void Kill(string reason)
    {
        if (IsDead) return;
        FlushStdio();
        if (_lastStderr is { Length: > 0 } stderr) reason += $" [guest stderr: {stderr}]";
        IsDead = true;
        DeathReason = reason;
        if (Host.LogLimiter.Admit(Logger, LogLevel.Error, WasmLog.VmFailedId)) WasmLog.VmFailed(Logger, Config.Name, reason);
        _startupLog?.Add(reason);
        Root?.StopTimer();
        CancelAllHttpCalls();
        var culprit = Current as StreamContext;
        foreach (var context in _contexts.Values)
        {
            if (context is not StreamContext s) continue;
            if (ReferenceEquals(s, culprit) || s.Waiting is not null || Owner is null) s.Fail(reason);
            else s.Orphan();
        }
        _contexts.Clear();
        _touched.Clear();
        _onDeath?.Invoke(this);
    }

    /// <summary>Writes a guest log line; during start-up warnings and errors are kept for <see cref="ConfigureResult"/>.</summary>
    public void Log(ProxyLogLevel level, string message)
    {
        if (level >= ProxyLogLevel.Warn) _startupLog?.Add(message);
        WasmLog.FilterMessage(Logger, ToLogLevel(level), Config.Name, Active?.Id ?? 0, message);
    }

    /// <summary>Whether <see cref="Log"/> would keep a line of <paramref name="level"/> (lets <c>proxy_log</c> skip decoding it).</summary>
    public bool WantsLog(ProxyLogLevel level)
        => (_startupLog is not null && level >= ProxyLogLevel.Warn) || Logger.IsEnabled(ToLogLevel(level));

    private static LogLevel ToLogLevel(ProxyLogLevel level) => level switch
    {
        ProxyLogLevel.Trace => LogLevel.Trace,
        ProxyLogLevel.Debug => LogLevel.Debug,
        ProxyLogLevel.Info => LogLevel.Information,
        ProxyLogLevel.Warn => LogLevel.Warning,
        ProxyLogLevel.Error => LogLevel.Error,
        _ => LogLevel.Critical,
    };

    /// <summary>
    /// WASI stdout (fd 1 → info) / stderr (fd 2 → error), line-buffered per VM: a Rust panic message arrives in
    /// many <c>fd_write</c> calls and is logged as one line. Partial lines are flushed when the callback ends.
    /// </summary>
    public void WriteStdio(int fd, ReadOnlySpan<char> text)
    {
        var buffer = _stdio[fd] ??= new System.Text.StringBuilder();
        foreach (char c in text)
        {
            if (c == '\n') EmitStdio(fd, buffer);
            else buffer.Append(c);
        }
    }

    private void FlushStdio()
    {
        for (int fd = 1; fd <= 2; fd++)
        {
            if (_stdio[fd] is { Length: > 0 } buffer) EmitStdio(fd, buffer);
        }
    }

    private void EmitStdio(int fd, System.Text.StringBuilder buffer)
    {
        var line = buffer.ToString();
        buffer.Clear();
        if (fd == 2) _lastStderr = line;
        Log(fd == 1 ? ProxyLogLevel.Info : ProxyLogLevel.Error, line);
    }

    /// <summary>Lowest level the filter logger has enabled, for <c>proxy_get_log_level</c>.</summary>
    public ProxyLogLevel CurrentLogLevel()
    {
        if (Logger.IsEnabled(LogLevel.Trace)) return ProxyLogLevel.Trace;
        if (Logger.IsEnabled(LogLevel.Debug)) return ProxyLogLevel.Debug;
        if (Logger.IsEnabled(LogLevel.Information)) return ProxyLogLevel.Info;
        if (Logger.IsEnabled(LogLevel.Warning)) return ProxyLogLevel.Warn;
        if (Logger.IsEnabled(LogLevel.Error)) return ProxyLogLevel.Error;
        return ProxyLogLevel.Critical;
    }

    private void SettleTouched()
    {
        while (_touched.Count > 0 && !IsDead)
        {
            var batch = _touched.ToArray();
            _touched.Clear();
            foreach (var s in batch)
            {
                if (!IsDead) s.Settle();
            }
        }
    }

    /// <summary>
    /// <c>proc_exit(0)</c> is a normal end only of WASI start-up (<c>_start</c>, <c>_initialize</c>/<c>main</c>:
    /// abi doc §1.2; a start section that exits leaves no instance, so instantiation fails). Inside a proxy_* callback any <c>proc_exit</c> ends the call
    /// as a trap (abi doc §3: it must not return normally): the guest's stack and state are left mid-call.
    /// </summary>
    private static bool IsCleanExit(Exception ex)
        => ex is ProcExitException { Code: 0 }
           || ex.InnerException is ProcExitException { Code: 0 }
           || (ex is WasmtimeException { ExitCode: 0 });

    private static bool IsDeadline(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
            if (e is DeadlineExceededException) return true;
        return false;
    }

    private static string Describe(Exception ex)
    {
        if (ex.InnerException is ProcExitException pe) return pe.Message;
        var text = ex.Message;
        if (ex.InnerException is { } inner && !text.Contains(inner.Message, StringComparison.Ordinal)) text += " (" + inner.Message + ")";
        return text;
    }

    public void Dispose() => Dispose(null);

    /// <summary>Disposes the VM; <paramref name="reason"/> is what contexts still on it fail with (a failed start).</summary>
    public void Dispose(string? reason)
    {
        using (Gate.Hold())
        {
            if (_disposed) return;
            if (reason is not null && !IsDead) DeathReason = reason;
            _disposed = true;
            if (!IsDead && Root is { } root && Exports is not null)
            {
                CallFunc(root, "proxy_on_done", Exports.OnDone, root.Id, 1, out _);
                CallVoid(root, "proxy_on_delete", Exports.OnDelete, root.Id);
            }
            Root?.StopTimer();
            CancelAllHttpCalls();
            IsDead = true;
            DeathReason ??= "VM disposed";
            foreach (var context in _contexts.Values)
            {
                if (context is StreamContext s) s.Fail(DeathReason);
            }
            _contexts.Clear();
            Store.Dispose();
        }
    }
}
