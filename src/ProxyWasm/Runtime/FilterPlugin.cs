using ProxyWasm.Contexts;
using ProxyWasm.Http;

namespace ProxyWasm.Runtime;

/// <summary>
/// A started filter entry: module + immutable <see cref="FilterPluginConfig"/> + a bounded set of VMs
/// (<see cref="FilterPluginConfig.PoolSize"/>, by default one per core), each with this entry's root context and the
/// HTTP contexts of many concurrent requests (as Envoy's per-worker VMs and ngx_wasm_module's per-worker instances):
/// memory does not grow with concurrency. A request gets its context on the least loaded live VM and keeps that VM
/// for its whole life; a VM runs one callback at a time (<see cref="VmGate"/>: requests wait for it asynchronously).
/// A trap kills the VM: only the request whose callback trapped fails; the other requests' contexts on it are
/// re-created on a live VM at their next callback (<see cref="Contexts.StreamContext.Orphaned"/>); the VM is
/// replaced in the background from the already-compiled module (<c>proxy_on_vm_start</c> and
/// <c>proxy_on_configure</c> recreate its root state). VM starts are paced by <see cref="WasmLimits.VmStartCpuShare"/>.
/// With <see cref="FilterPluginConfig.ContextsPerVm"/>, the set grows by one VM whenever every VM holds more requests
/// than that, up to <see cref="FilterPluginConfig.MaxPoolSize"/>, and shrinks back to the pool size as VMs fall idle.
/// </summary>
public sealed class FilterPlugin : IDisposable
{
    /// <summary>
    /// Picks of a VM for one context before giving up: a VM picked may die (another request's trap) before the context
    /// is created on it, or before the first callback of a context moved to it runs; then another is taken. Each such
    /// death is another request's failing callback, so under a trap storm a request moves about once per trap it
    /// witnesses: the bound is generous, and only stops a request from chasing VMs that die for other reasons.
    /// </summary>
    internal const int MaxOpenAttempts = 64;

    private readonly WasmHost _host;
    private readonly Lock _gate = new();
    private readonly List<WasmVm> _live = [];
    private readonly VmStartBudget _budget;
    private int _starting;
    // requests holding a VM of this entry: kept as a count rather than summed over _live because it includes leases on
    // VMs that died and whose contexts have not moved yet, which keeps the shrink in Return conservative meanwhile
    private int _leases;
    private int _pickNext;
    private int _vmsCreated;
    private bool _toppingUp;
    private volatile bool _slowCalls;
    private volatile bool _disposed;

    internal FilterPlugin(WasmHost host, FilterModule module, FilterPluginConfig config)
    {
        _host = host;
        Module = module;
        Config = config;
        _budget = new VmStartBudget(config.Limits.VmStartCpuShare, host.TimeProvider);
    }

    /// <summary>The module this plugin runs.</summary>
    public FilterModule Module { get; }

    /// <summary>The immutable configuration.</summary>
    public FilterPluginConfig Config { get; }

    /// <summary>VMs created so far, including replacements of failed ones (observability, tests).</summary>
    public int VmsCreated => Volatile.Read(ref _vmsCreated);

    /// <summary>VMs currently alive (at most <see cref="FilterPluginConfig.PoolSize"/>, or
    /// <see cref="FilterPluginConfig.MaxPoolSize"/> with a <see cref="FilterPluginConfig.ContextsPerVm"/> bound).</summary>
    public int LiveVmCount
    {
        get { lock (_gate) return _live.Count; }
    }

    /// <summary>Test hook: runs after a VM was picked for a new context and before the context is created on it.</summary>
    internal Action<WasmVm>? BeforeContextCreate { get; set; }

    /// <summary>
    /// True once a request-time callback of this plugin ran slow (2 ms of CPU: a runaway loop, or a guest far heavier
    /// than filters are). Sticky for the plugin's life. An embedder whose request threads are event loops serving many
    /// connections moves this plugin's callbacks off them from then on; fast plugins keep running inline.
    /// </summary>
    public bool HasSlowCalls => _slowCalls;

    internal void NoteSlowCall()
    {
        if (_slowCalls) return;
        _slowCalls = true;
        WasmLog.SlowCallsSeen(_host.CreateFilterLogger(Config.Name), Config.Name);
    }

    /// <summary>The linear memory of this plugin's live VMs, in bytes, and how many there are. Each VM is read under
    /// its gate (a store is single-threaded), so this waits for calls in progress: for status reports, not requests.</summary>
    public (int Vms, long Bytes) LinearMemory()
    {
        int vms = 0;
        long bytes = 0;
        foreach (var vm in Vms)
        {
            using (vm.Gate.Hold())
            {
                if (vm.IsDead || vm.Memory is not { } memory) continue;
                vms++;
                bytes += memory.GetLength();
            }
        }
        return (vms, bytes);
    }

    /// <summary>Live VMs, oldest first (tests).</summary>
    internal IReadOnlyList<WasmVm> Vms
    {
        get { lock (_gate) return [.. _live]; }
    }

    internal ConfigureResult Start()
    {
        for (int i = 0; i < Config.PoolSize; i++)
        {
            var vm = NewVm();
            var result = vm.Start();
            if (!result.Success)
            {
                vm.Dispose();
                return result;
            }
            lock (_gate) _live.Add(vm);
        }
        return ConfigureResult.Ok;
    }

    /// <summary>
    /// Creates the HTTP context of one request for this filter entry (<c>proxy_on_context_create</c>) on the least
    /// loaded live VM. Completes synchronously when that VM is not running a callback; otherwise once it is free (or,
    /// with no live VM, after starting one, possibly waiting for the start budget). Dispose the context when the
    /// request ends. If no VM can be started the context fails on its first phase (per fail policy).
    /// </summary>
    public ValueTask<HttpFilterContext> CreateHttpContextAsync(IHttpStreamHost stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var opening = OpenStreamAsync(stream, null, holdGate: false, cancellationToken);
        return opening.IsCompletedSuccessfully
            ? new(new HttpFilterContext(opening.Result, this))
            : WrapAsync(opening);
    }

    private async ValueTask<HttpFilterContext> WrapAsync(ValueTask<StreamContext> opening)
        => new(await opening.ConfigureAwait(false), this);

    /// <summary>Synchronous <see cref="CreateHttpContextAsync"/> (blocks while VM starts are paced; tests and tools).</summary>
    public HttpFilterContext CreateHttpContext(IHttpStreamHost stream)
    {
        var pending = CreateHttpContextAsync(stream);
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>
    /// Picks a VM (leased: counted in its <see cref="WasmVm.Leases"/> until <see cref="Return"/>) and creates a stream
    /// context on it under its gate; <paramref name="orphan"/> is the context it replaces after a VM death, and with
    /// <paramref name="holdGate"/> the gate stays held for the caller's callback. A VM killed between the pick and the
    /// creation (another request's trap) is given back and another is taken, at most <see cref="MaxOpenAttempts"/>
    /// times; then, or when no VM can be started, the context is created failed (fail policy).
    /// </summary>
    internal async ValueTask<StreamContext> OpenStreamAsync(IHttpStreamHost host, StreamContext? orphan, bool holdGate, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            WasmVm? vm;
            bool startFailed = false, grow;
            lock (_gate) grow = GrowsLocked(vm = PickLocked());
            if (grow) _ = Task.Run(TopUpAsync);
            if (vm is null) (vm, startFailed) = await StartForRequestAsync(cancellationToken).ConfigureAwait(false);
            BeforeContextCreate?.Invoke(vm);
            await vm.Gate.EnterAsync().ConfigureAwait(false);
            bool release = true;
            try
            {
                if (!vm.IsDead || startFailed || attempt == MaxOpenAttempts)
                {
                    var context = vm.CreateStream(host, orphan);
                    release = !holdGate;
                    return context;
                }
            }
            finally
            {
                if (release) vm.Gate.Exit();
            }
            Return(vm);
        }
    }

    /// <summary>Gate held. The live VM with the fewest requests on it (ties: round-robin), leased; null if none.</summary>
    private WasmVm? PickLocked()
    {
        int count = _live.Count;
        if (count == 0) return null;
        int first = (int)((uint)_pickNext++ % (uint)count);
        WasmVm? best = null;
        for (int i = 0; i < count; i++)
        {
            var vm = _live[(first + i) % count];
            if (vm.IsDead) continue;
            if (best is null || vm.Leases < best.Leases) best = vm;
        }
        if (best is not null)
        {
            best.Leases++;
            _leases++;
        }
        return best;
    }

    /// <summary>Gate held. True (and a top-up claimed) when <paramref name="picked"/>, the least loaded VM, now holds
    /// more requests than <see cref="FilterPluginConfig.ContextsPerVm"/> and the entry may grow.</summary>
    private bool GrowsLocked(WasmVm? picked)
    {
        // the cheap test first (every request): only a pick over the bound looks at the whole set
        if (picked is null || Config.ContextsPerVm == 0 || picked.Leases <= Config.ContextsPerVm) return false;
        if (_toppingUp || _disposed || !WantsVmLocked()) return false;
        _toppingUp = true;
        return true;
    }

    /// <summary>Gate held. Whether one more VM should start: below the pool size (a dead VM's replacement), or every
    /// live VM over the <see cref="FilterPluginConfig.ContextsPerVm"/> bound and room under the cap.</summary>
    private bool WantsVmLocked()
    {
        int count = _live.Count + _starting;
        if (count < Config.PoolSize) return true;
        if (Config.ContextsPerVm == 0 || count >= Config.VmCap || _starting > 0) return false;
        foreach (var vm in _live)
        {
            if (!vm.IsDead && vm.Leases <= Config.ContextsPerVm) return false;
        }
        return true;
    }

    /// <summary>No live VM (every one died and replacements are not up yet): start one now, within the start budget.</summary>
    private async ValueTask<(WasmVm Vm, bool StartFailed)> StartForRequestAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            WasmVm? vm;
            TimeSpan wait;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                vm = PickLocked();
                bool first = false;
                if (vm is not null) wait = TimeSpan.Zero;
                else if (_live.Count + _starting >= Config.PoolSize) wait = TimeSpan.FromMilliseconds(5); // every slot is starting
                else if (_budget.TryReserve(out wait, out first)) _starting++;
                if (first) WasmLog.VmStartsPaced(_host.CreateFilterLogger(Config.Name), Config.Name, wait.TotalMilliseconds);
            }
            if (vm is not null) return (vm, false);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _host.TimeProvider, cancellationToken).ConfigureAwait(false);
                continue;
            }
            // a start runs guest code for up to StartDeadline (5 s): never on an embedder's event-loop thread
            if (!Thread.CurrentThread.IsThreadPoolThread) await Task.Yield();
            var fresh = StartReserved(leased: true, out bool started);
            return (fresh, !started); // a VM that failed to start is dead: its context fails (fail policy)
        }
    }

    /// <summary>
    /// Starts a VM for a start slot reserved under the gate (<see cref="_starting"/>), charging its CPU time to the
    /// budget. Returns it (leased if asked); when it failed to start, <paramref name="started"/> is false and the VM
    /// returned is dead (a context created on it fails with the start error).
    /// </summary>
    private WasmVm StartReserved(bool leased, out bool started)
    {
        var vm = NewVm();
        long cpu = ThreadCpuClock.NowNanoseconds();
        ConfigureResult result;
        try { result = vm.Start(); }
        catch (Exception ex) when (ex is ObjectDisposedException or Wasmtime.WasmtimeException)
        {
            result = ConfigureResult.Fail("instantiate", ex.Message); // host shutting down underneath us
        }
        cpu = ThreadCpuClock.NowNanoseconds() - cpu;
        lock (_gate)
        {
            _starting--;
            _budget.Charge(cpu);
            started = result.Success && !_disposed;
            if (leased)
            {
                vm.Leases = 1;
                _leases++;
            }
            if (started) _live.Add(vm);
        }
        if (!started)
        {
            if (!result.Success) WasmLog.VmReplaceFailed(vm.Logger, Config.Name, result.Error ?? "");
            vm.Dispose(result.Error ?? "plugin disposed");
            return vm;
        }
        WasmLog.VmStarted(vm.Logger, Config.Name);
        return vm;
    }

    /// <summary>The request of a context on <paramref name="vm"/> ended (or moved to another VM). While the entry has
    /// VMs above its pool size, idle ones are shut down as long as the rest have room for twice the requests in flight
    /// (hysteresis against growing back at once).</summary>
    internal void Return(WasmVm vm)
    {
        List<WasmVm>? idle = null;
        lock (_gate)
        {
            vm.Leases--;
            _leases--;
            while (!_disposed && _live.Count > Config.PoolSize && (long)_leases * 2 <= (long)(_live.Count - 1) * Config.ContextsPerVm)
            {
                int i = _live.FindIndex(v => v.Leases == 0);
                if (i < 0) break;
                (idle ??= []).Add(_live[i]);
                _live.RemoveAt(i);
            }
        }
        if (idle is not null) Retire(idle);
    }

    /// <summary>Shuts down VMs taken out of the live set (its own method: a lambda capturing <c>idle</c> in
    /// <see cref="Return"/> would cost every request a closure).</summary>
    private void Retire(List<WasmVm> idle)
    {
        WasmLog.VmRetired(idle[0].Logger, Config.Name, idle.Count, LiveVmCount);
        _ = Task.Run(() => idle.ForEach(v => v.Dispose())); // proxy_on_done/on_delete run guest code: not on the request's thread
    }

    private WasmVm NewVm()
    {
        Interlocked.Increment(ref _vmsCreated);
        return new WasmVm(_host, Module, Config, OnVmDeath) { Owner = this };
    }

    /// <summary>
    /// Called under the dead VM's gate (a trap, a deadline, a failed start): forget it and start a replacement off
    /// this thread, so ticks go on and the next request does not pay the start.
    /// </summary>
    private void OnVmDeath(WasmVm dead)
    {
        lock (_gate)
        {
            if (_disposed || !_live.Remove(dead)) return; // a VM that never started is not replaced here
            if (_toppingUp || !WantsVmLocked()) return;
            _toppingUp = true;
        }
        _ = Task.Run(TopUpAsync);
    }

    private async Task TopUpAsync()
    {
        try
        {
            while (true)
            {
                TimeSpan wait;
                lock (_gate)
                {
                    if (_disposed || !WantsVmLocked()) { _toppingUp = false; return; }
                    wait = _budget.TryReserve(out var w, out _) ? TimeSpan.Zero : w;
                    if (wait == TimeSpan.Zero) _starting++;
                }
                if (wait > TimeSpan.Zero) await Task.Delay(wait, _host.TimeProvider).ConfigureAwait(false);
                else
                {
                    StartReserved(leased: false, out bool started);
                    if (!started)
                    {
                        lock (_gate) _toppingUp = false; // the filter does not start: requests retry on demand
                        return;
                    }
                }
            }
        }
        catch (Exception ex)
        {
            lock (_gate) _toppingUp = false;
            WasmLog.VmReplaceFailed(_host.CreateFilterLogger(Config.Name), Config.Name, ex.Message);
        }
    }

    /// <summary>Shuts every VM down (<c>proxy_on_done</c>/<c>proxy_on_delete</c> on root contexts) and releases them.</summary>
    public void Dispose()
    {
        List<WasmVm> all;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            all = [.. _live];
            _live.Clear();
        }
        foreach (var vm in all) vm.Dispose();
    }
}
