using ProxyWasm.Abi;
using ProxyWasm.Http;
using ProxyWasm.Runtime;

namespace ProxyWasm.Contexts;

/// <summary>
/// Guest-visible state of one HTTP stream context (one request × one filter entry), child of a root context.
/// Lifecycle: <c>proxy_on_context_create(id, root)</c> → request headers/body/trailers → response
/// headers/body/trailers → <c>proxy_on_done</c> → <c>proxy_on_log</c> → <c>proxy_on_delete</c>.
/// Resumes requested by the guest (<c>proxy_continue_stream</c>, local responses) are recorded here and applied
/// after the current guest call returns (<see cref="Settle"/>), like Envoy's deferred after-VM-call actions.
/// </summary>
internal sealed class StreamContext : ContextBase
{
    private readonly RootContext _root;

    public StreamContext(WasmVm vm, int id, RootContext root, IHttpStreamHost host) : base(vm, id)
    {
        _root = root;
        Host = host;
    }

    public override RootContext Root => _root;

    public override StreamContext Stream => this;

    public IHttpStreamHost Host { get; }

    public FilterPhase Phase { get; set; }

    /// <summary>Set while a phase is paused; completed by <see cref="Settle"/> or <see cref="Fail"/>.</summary>
    public TaskCompletionSource<FilterOutcome>? Waiting { get; set; }

    public bool ContinueRequested { get; set; }

    public LocalResponse? PendingLocalResponse { get; set; }

    /// <summary>A local response was already produced for this request (a second one is refused).</summary>
    public bool LocalResponseProduced { get; set; }

    public bool CloseRequested { get; set; }

    /// <summary>Response headers went downstream; local responses are no longer possible.</summary>
    public bool ResponseHeadersSent { get; set; }

    /// <summary>Failed (fail-closed) or bypassed (fail-open): no more guest callbacks for this context.</summary>
    public FilterOutcome? TerminalOutcome { get; private set; }

    public bool Deleted { get; set; }

    /// <summary>
    /// The VM died in another request's callback while this context was between phases: the guest state of this
    /// context is gone, but the request is not at fault. Its next callback runs on a fresh context of a live VM
    /// (<see cref="HttpFilterContext"/> re-creates it), as ngx_wasm_module does after recycling a trapped instance.
    /// </summary>
    public bool Orphaned { get; private set; }

    /// <summary><c>proxy_on_done</c> returned false: waiting for the guest's <c>proxy_done()</c>.</summary>
    public bool PendingDone { get; set; }

    public bool DoneSignalled { get; set; }

    public int PendingHttpCalls { get; set; }

    /// <summary>The embedder's tracer of this context's callbacks (null: not traced).</summary>
    public IFilterCallbackObserver? Observer { get; set; }

    public bool IsRequestSide => Phase is FilterPhase.RequestHeaders or FilterPhase.RequestBody or FilterPhase.RequestTrailers;

    public override IHeaderMap? GetMap(MapType type) => type switch
    {
        MapType.HttpRequestHeaders => Host.RequestHeaders,
        MapType.HttpRequestTrailers => Host.RequestTrailers,
        MapType.HttpResponseHeaders => Host.ResponseHeaders,
        MapType.HttpResponseTrailers => Host.ResponseTrailers,
        _ => base.GetMap(type),
    };

    public override WasmResult GetBuffer(BufferType type, out ReadOnlySpan<byte> bytes)
    {
        var body = GetWritableBuffer(type);
        if (body is not null)
        {
            bytes = body.Span;
            return WasmResult.Ok;
        }
        return base.GetBuffer(type, out bytes);
    }

    /// <summary>Request body from the request-body phase on; response body from the response-body phase on.</summary>
    public override BodyBuffer? GetWritableBuffer(BufferType type) => type switch
    {
        BufferType.HttpRequestBody when Phase >= FilterPhase.RequestBody => Host.RequestBody,
        BufferType.HttpResponseBody when Phase >= FilterPhase.ResponseBody => Host.ResponseBody,
        _ => null,
    };

    /// <summary>Records <c>proxy_continue_stream</c>; resuming happens after the current guest call.</summary>
    public void RequestContinue(StreamType type)
    {
        if (type == StreamType.HttpRequest && IsRequestSide) ContinueRequested = true;
        else if (type == StreamType.HttpResponse && !IsRequestSide) ContinueRequested = true;
        Vm.Touch(this);
    }

    /// <summary>Applies what the guest asked for while this context was paused (called after guest calls).</summary>
    public void Settle()
    {
        if (Waiting is { } waiting)
        {
            FilterOutcome? outcome = null;
            if (PendingLocalResponse is { } local)
            {
                PendingLocalResponse = null;
                outcome = FilterOutcome.Local(local);
            }
            else if (CloseRequested) outcome = FilterOutcome.Closed;
            else if (ContinueRequested) outcome = FilterOutcome.Continue;
            else if (PendingHttpCalls == 0 && Vm.Config.AutoResumeAfterHttpCalls && IsRequestSide) outcome = FilterOutcome.Continue;
            if (outcome is { } o)
            {
                Waiting = null;
                ContinueRequested = false;
                waiting.TrySetResult(o);
            }
        }
        if (PendingDone && DoneSignalled && !Deleted) Vm.FinishStream(this);
    }

    /// <summary>The VM died in another request's callback; see <see cref="Orphaned"/>.</summary>
    public void Orphan()
    {
        if (TerminalOutcome is null) Orphaned = true;
    }

    /// <summary>A fresh context replacing an orphaned one keeps what the request already did downstream.</summary>
    public void InheritFrom(StreamContext orphan)
    {
        Phase = orphan.Phase;
        LocalResponseProduced = orphan.LocalResponseProduced;
        ResponseHeadersSent = orphan.ResponseHeadersSent;
        Observer = orphan.Observer;
    }

    /// <summary>The VM failed: no further callbacks; a paused phase completes with the failure outcome.</summary>
    public void Fail(string reason)
    {
        if (TerminalOutcome is not null) return;
        var outcome = Vm.Config.FailPolicy == FailPolicy.FailOpen ? FilterOutcome.Continue : FilterOutcome.Failure(reason);
        if (Vm.Config.FailPolicy == FailPolicy.FailOpen && !Vm.IsScratch) Vm.Stats.RecordFailOpen();
        TerminalOutcome = outcome;
        var waiting = Waiting;
        Waiting = null;
        waiting?.TrySetResult(outcome);
    }
}
