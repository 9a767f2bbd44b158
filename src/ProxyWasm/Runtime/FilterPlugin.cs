using ProxyWasm.Contexts;
using ProxyWasm.Http;

namespace ProxyWasm.Runtime;

/// <summary>
/// A started filter entry: module + immutable <see cref="FilterPluginConfig"/> + a pool of VMs, each with this
/// entry's root context. A request <em>leases</em> one VM for its whole life, alone: a trap kills only the VM of the
/// request that caused it, so it fails that request only (ngx_wasm_module's isolation "stream" without paying an
/// instantiation per request). The VM is discarded; the next request takes an idle VM or a fresh one instantiated
/// from the already-compiled module (<c>proxy_on_vm_start</c> and <c>proxy_on_configure</c> recreate its root state).
/// The pool grows with concurrency up to <see cref="WasmLimits.MaxVmsPerPlugin"/> (beyond it requests share VMs) and
/// keeps <see cref="FilterPluginConfig.PoolSize"/> VMs warm. VM starts are paced by
/// <see cref="WasmLimits.VmStartCpuShare"/>: a request that needs a new VM while the budget is spent waits for it.
/// </summary>
public sealed class FilterPlugin : IDisposable
{
    /// <summary>An idle VM above <see cref="FilterPluginConfig.PoolSize"/> unused this long is disposed (memory, ticks).</summary>
    private static readonly TimeSpan IdleVmTimeout = TimeSpan.FromSeconds(60);

    private readonly WasmHost _host;
    private readonly Lock _gate = new();
    private readonly List<WasmVm> _live = [];
    private readonly List<WasmVm> _idle = []; // a stack: the most recently returned VM is last (warm caches)
    private readonly VmStartBudget _budget;
    private int _starting;
    private int _shareNext;
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

    /// <summary>VMs currently alive (idle or leased).</summary>
    public int LiveVmCount
    {
        get { lock (_gate) return _live.Count; }
    }

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
            lock (vm.Gate)
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
            lock (_gate)
            {
                _live.Add(vm);
                _idle.Add(vm);
            }
        }
        return ConfigureResult.Ok;
    }

    /// <summary>
    /// Creates the HTTP context of one request for this filter entry (<c>proxy_on_context_create</c>) on a VM leased
    /// to it alone. Completes synchronously when an idle VM is ready; otherwise after starting one (possibly waiting
    /// for the start budget). Dispose the context when the request ends: that returns the VM. If no VM can be
    /// started the context fails on its first phase (per fail policy).
    /// </summary>
    public ValueTask<HttpFilterContext> CreateHttpContextAsync(IHttpStreamHost stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ObjectDisposedException.ThrowIf(_disposed, this);
        WasmVm? vm;
        lock (_gate) vm = PopIdle();
        return vm is not null ? new(Open(vm, stream)) : LeaseSlowAsync(stream, cancellationToken);
    }

    /// <summary>Synchronous <see cref="CreateHttpContextAsync"/> (blocks while VM starts are paced; tests and tools).</summary>
    public HttpFilterContext CreateHttpContext(IHttpStreamHost stream)
    {
        var pending = CreateHttpContextAsync(stream);
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    private HttpFilterContext Open(WasmVm vm, IHttpStreamHost stream)
    {
        lock (vm.Gate)
        {
            return new HttpFilterContext(vm, vm.CreateStream(stream), this);
        }
    }

    private async ValueTask<HttpFilterContext> LeaseSlowAsync(IHttpStreamHost stream, CancellationToken cancellationToken)
    {
        while (true)
        {
            WasmVm? vm;
            TimeSpan wait;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                vm = PopIdle();
                bool atCap = vm is null && _live.Count + _starting >= Config.Limits.MaxVmsPerPlugin;
                if (atCap) vm = ShareLocked();
                bool first = false;
                if (vm is not null) wait = TimeSpan.Zero;
                else if (atCap) wait = TimeSpan.FromMilliseconds(5); // every slot is still starting: wait for one
                else if (_budget.TryReserve(out wait, out first)) _starting++;
                if (first) WasmLog.VmStartsPaced(_host.CreateFilterLogger(Config.Name), Config.Name, wait.TotalMilliseconds);
            }
            if (vm is not null) return Open(vm, stream);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _host.TimeProvider, cancellationToken).ConfigureAwait(false);
                continue;
            }
            // a start runs guest code for up to StartDeadline (5 s): never on an embedder's event-loop thread
            if (!Thread.CurrentThread.IsThreadPoolThread) await Task.Yield();
            var fresh = StartReserved(leased: true, out bool started);
            if (started) return Open(fresh, stream);
            // the filter does not start any more (not caused by a request): share a live VM if there is one, else
            // the context fails with the start error (fail policy)
            lock (_gate) vm = ShareLocked();
            return Open(vm ?? fresh, stream);
        }
    }

    /// <summary>Gate held. The most recently returned idle VM, leased.</summary>
    private WasmVm? PopIdle()
    {
        while (_idle.Count > 0)
        {
            var vm = _idle[^1];
            _idle.RemoveAt(_idle.Count - 1);
            if (vm.IsDead) continue;
            vm.Leases = 1;
            return vm;
        }
        return null;
    }

    /// <summary>Gate held. At the VM cap: requests share the live VMs round-robin (isolation degrades, nothing fails).</summary>
    private WasmVm? ShareLocked()
    {
        for (int i = 0; i < _live.Count; i++)
        {
            var vm = _live[(int)((uint)_shareNext++ % (uint)_live.Count)];
            if (vm.IsDead) continue;
            vm.Leases++;
            return vm;
        }
        return null;
    }

    /// <summary>
    /// Starts a VM for a start slot reserved under the gate (<see cref="_starting"/>), charging its CPU time to the
    /// budget. Returns it leased or idle; when it failed to start, <paramref name="started"/> is false and the VM
    /// returned is dead (its contexts fail with the start error).
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
        List<WasmVm>? stale = null;
        lock (_gate)
        {
            _starting--;
            _budget.Charge(cpu);
            started = result.Success && !_disposed;
            if (started)
            {
                _live.Add(vm);
                if (leased) vm.Leases = 1;
                else Idle(vm, ref stale);
            }
        }
        if (!started)
        {
            if (!result.Success) WasmLog.VmReplaceFailed(vm.Logger, Config.Name, result.Error ?? "");
            vm.Dispose(result.Error ?? "plugin disposed");
            return vm;
        }
        WasmLog.VmStarted(vm.Logger, Config.Name);
        DisposeAll(stale);
        return vm;
    }

    /// <summary>The request of a context leased on <paramref name="vm"/> ended: the VM goes back to the idle stack.</summary>
    internal void Return(WasmVm vm)
    {
        List<WasmVm>? stale = null;
        lock (_gate)
        {
            // a dead VM already left _live (OnVmDeath); only idle VMs are ever trimmed, so a leased one is still live
            if (--vm.Leases > 0 || vm.IsDead || _disposed) return;
            Idle(vm, ref stale);
        }
        DisposeAll(stale);
    }

    /// <summary>Gate held. Pushes an idle VM; the oldest idle VM above the warm pool goes once unused for a minute.</summary>
    private void Idle(WasmVm vm, ref List<WasmVm>? stale)
    {
        long now = _host.TimeProvider.GetTimestamp();
        vm.IdleSince = now;
        _idle.Add(vm);
        if (_idle.Count > Config.PoolSize && _host.TimeProvider.GetElapsedTime(_idle[0].IdleSince, now) > IdleVmTimeout)
        {
            var old = _idle[0];
            _idle.RemoveAt(0);
            _live.Remove(old);
            (stale ??= []).Add(old);
        }
    }

    private static void DisposeAll(List<WasmVm>? vms)
    {
        if (vms is null) return;
        foreach (var vm in vms) vm.Dispose();
    }

    private WasmVm NewVm()
    {
        Interlocked.Increment(ref _vmsCreated);
        return new WasmVm(_host, Module, Config, OnVmDeath) { Owner = this };
    }

    /// <summary>
    /// Called under the dead VM's gate (a trap, a deadline, a failed start): forget it; if the warm pool fell below
    /// <see cref="FilterPluginConfig.PoolSize"/>, start replacements off this thread so ticks go on and the next
    /// request does not pay the start.
    /// </summary>
    private void OnVmDeath(WasmVm dead)
    {
        lock (_gate)
        {
            if (_disposed || !_live.Remove(dead)) return; // a VM that never started is not replaced here
            _idle.Remove(dead);
            if (_toppingUp || _live.Count + _starting >= Config.PoolSize) return;
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
                    if (_disposed || _live.Count + _starting >= Config.PoolSize) { _toppingUp = false; return; }
                    wait = _budget.TryReserve(out var w, out _) ? TimeSpan.Zero : w;
                    if (wait == TimeSpan.Zero) _starting++;
                }
                if (wait > TimeSpan.Zero) await Task.Delay(wait, _host.TimeProvider).ConfigureAwait(false);
                else if (StartReserved(leased: false, out bool started) is not null && !started)
                {
                    lock (_gate) _toppingUp = false; // the filter does not start: requests retry on demand
                    return;
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
            _idle.Clear();
        }
        DisposeAll(all);
    }
}
