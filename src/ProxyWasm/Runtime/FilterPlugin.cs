using ProxyWasm.Contexts;
using ProxyWasm.Http;
using Wasmtime;

namespace ProxyWasm.Runtime;

/// <summary>
/// A started filter entry: module + immutable <see cref="FilterPluginConfig"/> + a pool of VMs, each with this
/// entry's root context. Requests are pinned round-robin to one VM for their whole life. A VM that fails is
/// replaced in the background (its root context re-created and re-configured), so ticks continue and the next
/// request gets a fresh VM.
/// </summary>
public sealed class FilterPlugin : IDisposable
{
    private readonly WasmHost _host;
    private readonly WasmVm?[] _slots;
    private readonly Lock[] _slotLocks;
    private readonly Queue<DateTimeOffset> _restarts = new();
    private int _next = -1;
    private int _vmsCreated;
    private volatile bool _disposed;

    internal FilterPlugin(WasmHost host, FilterModule module, FilterPluginConfig config)
    {
        _host = host;
        Module = module;
        Config = config;
        _slots = new WasmVm?[config.PoolSize];
        _slotLocks = Enumerable.Range(0, config.PoolSize).Select(_ => new Lock()).ToArray();
    }

    /// <summary>The module this plugin runs.</summary>
    public FilterModule Module { get; }

    /// <summary>The immutable configuration.</summary>
    public FilterPluginConfig Config { get; }

    /// <summary>VMs created so far, including replacements of failed ones (observability, tests).</summary>
    public int VmsCreated => Volatile.Read(ref _vmsCreated);

    /// <summary>VMs currently alive.</summary>
    public int LiveVmCount => _slots.Count(v => v is { IsDead: false });

    internal ConfigureResult Start()
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            var vm = NewVm(i);
            var result = vm.Start();
            if (!result.Success)
            {
                vm.Dispose();
                return result;
            }
            _slots[i] = vm;
        }
        return ConfigureResult.Ok;
    }

    /// <summary>
    /// Creates the HTTP context of one request for this filter entry (<c>proxy_on_context_create</c>). Dispose it
    /// when the request ends. If no VM can be started the context fails on its first phase (per fail policy).
    /// </summary>
    public HttpFilterContext CreateHttpContext(IHttpStreamHost stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ObjectDisposedException.ThrowIf(_disposed, this);
        int slot = (int)((uint)Interlocked.Increment(ref _next) % (uint)_slots.Length);
        var vm = AcquireVm(slot);
        lock (vm.Gate)
        {
            return new HttpFilterContext(vm, vm.CreateStream(stream));
        }
    }

    /// <summary>Root contexts' ids of live VMs (tests).</summary>
    internal IReadOnlyList<WasmVm> Vms => _slots.Where(v => v is not null).Select(v => v!).ToList();

    private WasmVm AcquireVm(int slot)
    {
        var vm = Volatile.Read(ref _slots[slot]);
        if (vm is { IsDead: false }) return vm;
        lock (_slotLocks[slot])
        {
            vm = _slots[slot];
            if (vm is { IsDead: false }) return vm;
            return Replace(slot, vm);
        }
    }

    /// <summary>Slot lock held. Builds a new VM; on failure the failed VM is kept (its contexts fail) and retried next time.</summary>
    private WasmVm Replace(int slot, WasmVm? old)
    {
        if (old is not null && !TryCountRestart()) return old;
        var fresh = NewVm(slot);
        var result = fresh.Start();
        if (!result.Success)
        {
            WasmLog.VmReplaceFailed(fresh.Logger, Config.Name, result.Error ?? "");
            fresh.Dispose();
            return old ?? fresh;
        }
        Volatile.Write(ref _slots[slot], fresh);
        WasmLog.VmReplaced(fresh.Logger, Config.Name, slot);
        old?.Dispose();
        return fresh;
    }

    /// <summary>Crash-loop guard (<see cref="WasmLimits.MaxVmRestartsPerMinute"/>).</summary>
    private bool TryCountRestart()
    {
        var now = _host.TimeProvider.GetUtcNow();
        lock (_restarts)
        {
            while (_restarts.Count > 0 && now - _restarts.Peek() > TimeSpan.FromMinutes(1)) _restarts.Dequeue();
            if (_restarts.Count >= Config.Limits.MaxVmRestartsPerMinute)
            {
                WasmLog.CrashLoop(_host.CreateFilterLogger(Config.Name), Config.Name, Config.Limits.MaxVmRestartsPerMinute);
                return false;
            }
            _restarts.Enqueue(now);
            return true;
        }
    }

    private WasmVm NewVm(int slot)
    {
        Interlocked.Increment(ref _vmsCreated);
        return new WasmVm(_host, Module, Config, dead => OnVmDeath(slot, dead));
    }

    /// <summary>Called under the dead VM's gate: replace it off that thread.</summary>
    private void OnVmDeath(int slot, WasmVm dead)
    {
        if (_disposed) return;
        ThreadPool.UnsafeQueueUserWorkItem(_ =>
        {
            if (_disposed) return;
            try
            {
                lock (_slotLocks[slot])
                {
                    if (!_disposed && ReferenceEquals(_slots[slot], dead)) Replace(slot, dead);
                }
            }
            catch (Exception ex) when (ex is ObjectDisposedException or WasmtimeException)
            {
                // host shut down underneath us: nothing to replace; the next request retries in AcquireVm
                WasmLog.VmReplaceFailed(dead.Logger, Config.Name, ex.Message);
            }
        }, null);
    }

    /// <summary>Shuts every VM down (<c>proxy_on_done</c>/<c>proxy_on_delete</c> on root contexts) and releases them.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        for (int i = 0; i < _slots.Length; i++)
        {
            lock (_slotLocks[i])
            {
                _slots[i]?.Dispose();
                _slots[i] = null;
            }
        }
    }
}
