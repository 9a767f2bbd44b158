using ProxyWasm.Http;
using ProxyWasm.Runtime;

namespace ProxyWasm.Contexts;

/// <summary>
/// Root (plugin) context: one per filter entry per VM.
/// Lifecycle: <c>proxy_on_context_create(id, 0)</c> → <c>proxy_on_vm_start</c> → <c>proxy_on_configure</c> →
/// (ticks, queue notifications, HTTP-call responses) → at shutdown <c>proxy_on_done</c> → <c>proxy_on_delete</c>.
/// HTTP calls belong to the root context and their responses are delivered here (spec §5.1).
/// </summary>
internal sealed class RootContext : ContextBase
{
    private ITimer? _tickTimer;
    private int _ticking;

    public RootContext(WasmVm vm, int id) : base(vm, id) { }

    public override RootContext Root => this;

    /// <summary>True during <c>proxy_on_vm_start</c>: 0.1.0 <c>proxy_get_configuration</c> then returns the VM configuration.</summary>
    public bool InVmStart { get; set; }

    /// <summary>The HTTP-call response being delivered (only during <c>proxy_on_http_call_response</c>).</summary>
    public HttpCallResponse? CallResponse { get; private set; }

    public HeaderMap? CallResponseHeaders { get; private set; }

    public HeaderMap? CallResponseTrailers { get; private set; }

    public void BeginCallResponse(HttpCallResponse response)
    {
        CallResponse = response;
        CallResponseHeaders = new HeaderMap(response.Headers);
        CallResponseTrailers = new HeaderMap(response.Trailers);
    }

    public void EndCallResponse()
    {
        CallResponse = null;
        CallResponseHeaders = null;
        CallResponseTrailers = null;
    }

    /// <summary><c>proxy_set_tick_period_milliseconds</c>: (re)arms or (0) cancels this root's timer.</summary>
    public void SetTickPeriod(uint milliseconds)
    {
        _tickTimer?.Dispose();
        _tickTimer = null;
        if (milliseconds == 0) return;
        // a .NET timer waits at most 2^32-2 ms (49.7 days); u32 max (-1 from a guest) means "as long as possible"
        var period = TimeSpan.FromMilliseconds(Math.Min(milliseconds, uint.MaxValue - 1));
        _tickTimer = Vm.Host.TimeProvider.CreateTimer(static s => ((RootContext)s!).Tick(), this, period, period);
    }

    /// <summary>Ticks never overlap: a tick that finds the previous one still running is skipped (spec §5.4).</summary>
    private void Tick()
    {
        if (Interlocked.Exchange(ref _ticking, 1) == 1) return;
        var run = Vm.RunTickAsync(this);
        if (run.IsCompletedSuccessfully) Volatile.Write(ref _ticking, 0);
        else _ = EndTickAsync(run);
    }

    private async Task EndTickAsync(ValueTask run)
    {
        try { await run.ConfigureAwait(false); }
        finally { Volatile.Write(ref _ticking, 0); }
    }

    public void StopTimer()
    {
        _tickTimer?.Dispose();
        _tickTimer = null;
    }
}
