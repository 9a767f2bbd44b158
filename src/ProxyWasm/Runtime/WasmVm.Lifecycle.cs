using ProxyWasm.Contexts;
using ProxyWasm.Http;

namespace ProxyWasm.Runtime;

/// <summary>VM start-up (spec §1.2, §2.2) and HTTP context creation/teardown (spec §2.3).</summary>
internal sealed partial class WasmVm
{
    /// <summary>
    /// :: Step 1 instantiate (runs a start section, e.g. AssemblyScript) → Step 2 init (<c>_initialize</c> then
    /// <c>main</c>/<c>__main_void</c>, else <c>_start</c>) → Step 3 root context create → Step 4
    /// <c>proxy_on_vm_start</c> → Step 5 <c>proxy_on_configure</c>. False or a trap at any step fails the start.
    /// </summary>
    public ConfigureResult Start()
    {
        using (Gate.Hold())
        {
            _startupLog = [];
            try
            {
                // :: Step 1
                ArmDeadline();
                _inInitialization = true;
                Wasmtime.Instance instance;
                try
                {
                    instance = Module.Linker.Instantiate(Store, Module.Module);
                }
                catch (Exception ex) // incl. proc_exit(0) from a start section: there is no instance to go on with
                {
                    IsDead = true;
                    DeathReason = Describe(ex);
                    return Failed("instantiate", DeathReason);
                }
                Instance = instance;
                Memory = instance.GetMemory("memory");
                Exports = new GuestExports(instance, Abi);

                // :: Step 2
                if (Exports.Initialize is not null)
                {
                    Call<Action>(null, "_initialize", Exports.Initialize, static f => { f(); return 0; }, 0, out _);
                    if (Exports.Main is not null) CallFunc(null, "main", Exports.Main, 0, 0, 0, out _);
                    else if (Exports.MainVoid is not null) Call(null, "__main_void", Exports.MainVoid, static f => f(), 0, out _);
                }
                else if (Exports.Start is not null)
                {
                    Call<Action>(null, "_start", Exports.Start, static f => { f(); return 0; }, 0, out _);
                }
                _inInitialization = false;
                if (IsDead) return Failed("initialize", DeathReason!);

                // :: Step 3
                var root = new RootContext(this, NextContextId());
                _contexts[root.Id] = root;
                Root = root;
                if (!CallVoid(root, "proxy_on_context_create", Exports.OnContextCreate, root.Id, 0)) return Failed("on_context_create", DeathReason!);

                // :: Step 4
                root.InVmStart = true;
                int started = CallFunc(root, "proxy_on_vm_start", Exports.OnVmStart, root.Id, Config.VmConfiguration.Length, 1, out var ok);
                root.InVmStart = false;
                if (!ok) return Failed("on_vm_start", DeathReason!);
                if (started == 0) return Failed("on_vm_start", "proxy_on_vm_start returned false");

                // :: Step 5
                int configured = CallFunc(root, "proxy_on_configure", Exports.OnConfigure, root.Id, Config.Configuration.Length, 1, out ok);
                if (!ok) return Failed("on_configure", DeathReason!);
                if (configured == 0) return Failed("on_configure", "proxy_on_configure returned false");
                return ConfigureResult.Ok;
            }
            finally
            {
                _inInitialization = false;
                _startupLog = null;
                UseDeadline(Config.Limits.CallDeadline, paced: true); // start-up is over: callbacks get the per-call budget
            }
        }
    }

    private ConfigureResult Failed(string stage, string reason)
    {
        var logs = _startupLog is { Count: > 0 } ? string.Join("; ", _startupLog.Distinct()) : null;
        var text = $"filter '{Config.Name}' ({Module.Name}) failed in {stage}: {reason}";
        if (logs is not null && !reason.Contains(logs, StringComparison.Ordinal)) text += $" [filter log: {logs}]";
        return ConfigureResult.Fail(stage, text);
    }

    private int NextContextId()
    {
        while (_contexts.ContainsKey(_nextContextId) || _nextContextId == 0) _nextContextId++;
        return _nextContextId++;
    }

    /// <summary>Creates an HTTP context under the root: <c>proxy_on_context_create(id, root_id)</c>. Gate must be held.</summary>
    public StreamContext CreateStream(IHttpStreamHost host, StreamContext? orphan = null)
    {
        var context = new StreamContext(this, NextContextId(), Root!, host);
        if (orphan is not null) context.InheritFrom(orphan);
        if (IsDead)
        {
            context.Fail(DeathReason ?? "VM is not running");
            return context;
        }
        _contexts[context.Id] = context;
        CallVoid(context, "proxy_on_context_create", Exports.OnContextCreate, context.Id, Root!.Id);
        return context;
    }

    /// <summary>The tail after <c>proxy_on_done</c> returned true (or the guest called <c>proxy_done</c>): log, then delete.</summary>
    public void FinishStream(StreamContext context)
    {
        if (context.Deleted) return;
        context.Deleted = true;
        context.PendingDone = false;
        context.Phase = FilterPhase.Done;
        CancelHttpCallsOf(context);
        if (CallObserved(context, FilterCallback.Log, "proxy_on_log", Exports.OnLog))
            CallObserved(context, FilterCallback.Delete, "proxy_on_delete", Exports.OnDelete);
        _contexts.Remove(context.Id);
    }

    /// <summary>A void tail callback, told to the context's observer when the module exports it.</summary>
    private bool CallObserved(StreamContext context, FilterCallback callback, string name, Action<int>? fn)
    {
        var observer = fn is null ? null : context.Observer;
        observer?.Started(callback);
        var ok = CallVoid(context, name, fn, context.Id);
        observer?.Ended(callback, ok ? FilterCallbackOutcome.Continue : FilterCallbackOutcome.Trap, ok ? null : DeathReason ?? "VM failed");
        return ok;
    }

    /// <summary>Forgets a context whose callbacks must not run any more (failed VM or disposed mid-request).</summary>
    public void Forget(StreamContext context)
    {
        context.Deleted = true;
        CancelHttpCallsOf(context);
        _contexts.Remove(context.Id);
    }
}
