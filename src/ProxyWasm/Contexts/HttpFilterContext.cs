using ProxyWasm.Http;
using ProxyWasm.Runtime;

namespace ProxyWasm.Contexts;

/// <summary>
/// One request's context for one filter entry, on one of the entry's VMs (shared with other requests' contexts). Call
/// the phases in order (spec §2.3); each returns a <see cref="FilterOutcome"/> synchronously unless the filter paused
/// (e.g. waiting for an HTTP call) or the VM was running another request's callback, in which case the task completes
/// when the filter resumes, answers locally or fails.
/// Body phases read and edit <see cref="IHttpStreamHost.RequestBody"/>/<see cref="IHttpStreamHost.ResponseBody"/>;
/// <see cref="FilterOutcomeKind.BufferBody"/> asks the embedder to append the next chunk and call again.
/// If the VM dies in another request's callback, the next callback of this request runs on a fresh context of a
/// live VM (<see cref="StreamContext.Orphaned"/>).
/// Not thread-safe per instance: one phase at a time, like the request it belongs to.
/// </summary>
public sealed class HttpFilterContext : IDisposable
{
    private readonly FilterPlugin? _plugin;
    private StreamContext _stream;
    private int _disposed;

    internal HttpFilterContext(StreamContext stream, FilterPlugin? plugin)
    {
        _stream = stream;
        _plugin = plugin;
    }

    internal StreamContext Stream => _stream;

    internal WasmVm Vm => _stream.Vm;

    /// <summary>Guest context id (unique within the VM).</summary>
    public int ContextId => _stream.Id;

    /// <summary>Told about every guest callback made on this context from now on (set before the first phase;
    /// null: none). Kept when the request moves to a live VM.</summary>
    public IFilterCallbackObserver? Observer
    {
        get => _stream.Observer;
        set => _stream.Observer = value;
    }

    /// <summary>True once the VM serving this request failed (further phases return the failure outcome).</summary>
    public bool IsFailed => _stream.TerminalOutcome is not null;

    /// <summary><c>proxy_on_request_headers(ctx, n, end_of_stream)</c> (0.1.0: without end_of_stream).</summary>
    public ValueTask<FilterOutcome> OnRequestHeadersAsync(bool endOfStream) => Run(FilterPhase.RequestHeaders, endOfStream);

    /// <summary><c>proxy_on_request_body(ctx, body_size, end_of_stream)</c>; body_size = bytes currently in the request buffer.</summary>
    public ValueTask<FilterOutcome> OnRequestBodyAsync(bool endOfStream) => Run(FilterPhase.RequestBody, endOfStream);

    /// <summary><c>proxy_on_request_trailers(ctx, n)</c>.</summary>
    public ValueTask<FilterOutcome> OnRequestTrailersAsync() => Run(FilterPhase.RequestTrailers, true);

    /// <summary><c>proxy_on_response_headers(ctx, n, end_of_stream)</c>; also run on a local response.</summary>
    public ValueTask<FilterOutcome> OnResponseHeadersAsync(bool endOfStream) => Run(FilterPhase.ResponseHeaders, endOfStream);

    /// <summary><c>proxy_on_response_body(ctx, body_size, end_of_stream)</c>. Response headers count as sent from here on.</summary>
    public ValueTask<FilterOutcome> OnResponseBodyAsync(bool endOfStream) => Run(FilterPhase.ResponseBody, endOfStream);

    /// <summary><c>proxy_on_response_trailers(ctx, n)</c>.</summary>
    public ValueTask<FilterOutcome> OnResponseTrailersAsync() => Run(FilterPhase.ResponseTrailers, true);

    /// <summary>
    /// End of request: <c>proxy_on_done</c> → <c>proxy_on_log</c> → <c>proxy_on_delete</c>. If on_done returns
    /// false the tail runs when the guest calls <c>proxy_done()</c>. Skipped for contexts of a failed VM.
    /// </summary>
    public ValueTask<FilterOutcome> OnDoneAsync() => Run(FilterPhase.Done, true);

    /// <summary>The phase runs inline when the VM is free (the common case); otherwise it waits for the VM.</summary>
    private ValueTask<FilterOutcome> Run(FilterPhase phase, bool endOfStream)
    {
        var vm = _stream.Vm;
        if (_stream.Orphaned || !vm.Gate.TryEnter()) return RunWaitingAsync(phase, endOfStream);
        try
        {
            return phase == FilterPhase.Done ? DoneLocked() : PhaseLocked(phase, endOfStream);
        }
        finally
        {
            vm.Gate.Exit();
        }
    }

    private async ValueTask<FilterOutcome> RunWaitingAsync(FilterPhase phase, bool endOfStream)
    {
        for (int attempt = 1; ; attempt++)
        {
            // a context moved to a live VM comes back with that VM's gate held, so its callback runs before any other
            if (!_stream.Orphaned) await _stream.Vm.Gate.EnterAsync().ConfigureAwait(false);
            else await MoveToLiveVmAsync().ConfigureAwait(false);
            var vm = _stream.Vm;
            ValueTask<FilterOutcome> result;
            try
            {
                // the VM died in another request's callback while this one waited for it: move (bounded)
                if (_stream.Orphaned && attempt < FilterPlugin.MaxOpenAttempts) continue;
                if (_stream.Orphaned) _stream.Fail(vm.DeathReason ?? "VM failed");
                result = phase == FilterPhase.Done ? DoneLocked() : PhaseLocked(phase, endOfStream);
            }
            finally
            {
                vm.Gate.Exit();
            }
            return await result.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The VM this request's context was on died in another request's callback: create a fresh context for this
    /// request on a live VM (<c>proxy_on_context_create</c>), keeping what it already did downstream. Returns with
    /// the new VM's gate held.
    /// </summary>
    private async ValueTask MoveToLiveVmAsync()
    {
        var orphan = _stream;
        if (_plugin is null)
        {
            orphan.Fail(orphan.Vm.DeathReason ?? "VM failed");
            await orphan.Vm.Gate.EnterAsync().ConfigureAwait(false);
            return;
        }
        var fresh = await _plugin.OpenStreamAsync(orphan.Host, orphan, holdGate: true, CancellationToken.None).ConfigureAwait(false);
        _stream = fresh;
        _plugin.Return(orphan.Vm);
    }

    private ValueTask<FilterOutcome> PhaseLocked(FilterPhase phase, bool endOfStream)
    {
        var s = _stream;
        var vm = s.Vm;
        if (s.TerminalOutcome is { } terminal) return new(terminal);
        if (s.Deleted) throw new InvalidOperationException("the HTTP context is already finished");
        if (s.Waiting is not null) throw new InvalidOperationException("the previous phase is still paused");
        // something the guest did between phases (e.g. from a tick through the effective context) wins
        if (s.PendingLocalResponse is { } early)
        {
            s.PendingLocalResponse = null;
            return new(FilterOutcome.Local(early));
        }
        if (s.CloseRequested) return new(FilterOutcome.Closed);
        s.Phase = phase;
        s.ContinueRequested = false;
        if (phase == FilterPhase.ResponseBody) s.ResponseHeadersSent = true;
        var observer = s.Observer is { } o && vm.Exports.Exports(phase) ? o : null;
        if (observer is null) return Invoke(s, phase, endOfStream, out _);
        var callback = Callback(phase);
        observer.Started(callback);
        var result = Invoke(s, phase, endOfStream, out var ok);
        observer.Ended(callback, Observed(result, ok), ok ? null : vm.DeathReason ?? "VM failed");
        return result;
    }

    /// <summary>The callback's outcome as a tracer reports it: a paused phase (or a buffering body step) is a
    /// pause; a failed call is a trap (also under fail-open, where the request goes on).</summary>
    private static FilterCallbackOutcome Observed(ValueTask<FilterOutcome> result, bool ok)
    {
        if (!ok) return FilterCallbackOutcome.Trap;
        if (!result.IsCompleted) return FilterCallbackOutcome.Pause;
        return result.Result.Kind switch
        {
            FilterOutcomeKind.BufferBody => FilterCallbackOutcome.Pause,
            FilterOutcomeKind.LocalResponse => FilterCallbackOutcome.LocalResponse,
            FilterOutcomeKind.Closed => FilterCallbackOutcome.Close,
            FilterOutcomeKind.Failed => FilterCallbackOutcome.Trap,
            _ => FilterCallbackOutcome.Continue,
        };
    }

    private static FilterCallback Callback(FilterPhase phase) => phase switch
    {
        FilterPhase.RequestHeaders => FilterCallback.RequestHeaders,
        FilterPhase.RequestBody => FilterCallback.RequestBody,
        FilterPhase.RequestTrailers => FilterCallback.RequestTrailers,
        FilterPhase.ResponseHeaders => FilterCallback.ResponseHeaders,
        FilterPhase.ResponseBody => FilterCallback.ResponseBody,
        _ => FilterCallback.ResponseTrailers,
    };

    /// <summary>Gate held: one header/body/trailer callback and what the embedder must do next.</summary>
    private static ValueTask<FilterOutcome> Invoke(StreamContext s, FilterPhase phase, bool endOfStream, out bool ok)
    {
        var vm = s.Vm;
        int eos = endOfStream ? 1 : 0;
        var x = vm.Exports;
        var h = s.Host;
        bool v01 = vm.Abi == Abi.AbiVersion.V0_1_0;
        // a callback the module does not export continues at once, without counting the headers for its argument (the
        // embedder's header map may have to walk its headers for that: a body-only filter must not pay it per request)
        int action = !x.Exports(phase) ? Absent(vm, out ok) : phase switch
        {
            FilterPhase.RequestHeaders when v01 => vm.CallFunc(s, "proxy_on_request_headers", x.OnRequestHeaders01, s.Id, h.RequestHeaders.Count, 0, out ok),
            FilterPhase.RequestHeaders => vm.CallFunc(s, "proxy_on_request_headers", x.OnRequestHeaders, s.Id, h.RequestHeaders.Count, eos, 0, out ok),
            FilterPhase.RequestBody => vm.CallFunc(s, "proxy_on_request_body", x.OnRequestBody, s.Id, h.RequestBody.Length, eos, 0, out ok),
            FilterPhase.RequestTrailers => vm.CallFunc(s, "proxy_on_request_trailers", x.OnRequestTrailers, s.Id, h.RequestTrailers.Count, 0, out ok),
            FilterPhase.ResponseHeaders when v01 => vm.CallFunc(s, "proxy_on_response_headers", x.OnResponseHeaders01, s.Id, h.ResponseHeaders.Count, 0, out ok),
            FilterPhase.ResponseHeaders => vm.CallFunc(s, "proxy_on_response_headers", x.OnResponseHeaders, s.Id, h.ResponseHeaders.Count, eos, 0, out ok),
            FilterPhase.ResponseBody => vm.CallFunc(s, "proxy_on_response_body", x.OnResponseBody, s.Id, h.ResponseBody.Length, eos, 0, out ok),
            _ => vm.CallFunc(s, "proxy_on_response_trailers", x.OnResponseTrailers, s.Id, h.ResponseTrailers.Count, 0, out ok),
        };
        if (!ok) return new(s.TerminalOutcome ?? FilterOutcome.Failure(vm.DeathReason ?? "VM failed"));
        if (s.PendingLocalResponse is { } local)
        {
            s.PendingLocalResponse = null;
            return new(FilterOutcome.Local(local)); // return value ignored after a local response (cpp-host)
        }
        if (s.CloseRequested) return new(FilterOutcome.Closed);
        if (action == 0 || s.ContinueRequested) return new(FilterOutcome.Continue);
        if (phase is FilterPhase.RequestBody or FilterPhase.ResponseBody && !endOfStream) return new(FilterOutcome.BufferBody);
        s.Waiting = new TaskCompletionSource<FilterOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        return new(s.Waiting.Task);
    }

    /// <summary>What <see cref="WasmVm.CallFunc(ContextBase?, string, Func{int, int}?, int, int, out bool)"/> answers
    /// for a callback the module does not export: Continue, unless the VM is dead.</summary>
    private static int Absent(WasmVm vm, out bool ok)
    {
        ok = !vm.IsDead;
        return 0;
    }

    private ValueTask<FilterOutcome> DoneLocked()
    {
        var s = _stream;
        var vm = s.Vm;
        if (s.TerminalOutcome is { } terminal) { vm.Forget(s); return new(terminal); }
        if (s.Deleted || s.PendingDone) return new(FilterOutcome.Continue);
        vm.CancelHttpCallsOf(s);
        var observer = vm.Exports.OnDone is null ? null : s.Observer;
        observer?.Started(FilterCallback.Done);
        int done = vm.CallFunc(s, "proxy_on_done", vm.Exports.OnDone, s.Id, 1, out var ok);
        observer?.Ended(FilterCallback.Done, !ok ? FilterCallbackOutcome.Trap : done != 0 ? FilterCallbackOutcome.Continue : FilterCallbackOutcome.Pause,
            ok ? null : vm.DeathReason);
        if (!ok) return new(s.TerminalOutcome ?? FilterOutcome.Failure(vm.DeathReason ?? "VM failed"));
        if (done != 0) vm.FinishStream(s);
        else s.PendingDone = true;
        return new(s.TerminalOutcome ?? FilterOutcome.Continue);
    }

    /// <summary>
    /// Ends the context if the embedder did not call <see cref="OnDoneAsync"/> (aborted request): a paused phase
    /// completes as failed, pending callouts are cancelled and the done/log/delete tail runs. Then the VM's count of
    /// requests goes down. Does not wait for a VM busy with another request's callback (finishes in the background).
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        var ending = EndAsync();
        if (!ending.IsCompletedSuccessfully) _ = ending.AsTask();
        else Ended = _stream.Deleted;
    }

    /// <summary>True when <see cref="Dispose"/> ended the context on the caller's thread: its done/log/delete tail ran
    /// (or it was forgotten), so no guest callback of this request can read the stream's buffers any more. False when
    /// the tail still runs in the background (a VM busy with another request, a filter holding its on_done).</summary>
    public bool Ended { get; private set; }

    private async ValueTask EndAsync()
    {
        var vm = _stream.Vm;
        try
        {
            bool runDone;
            await vm.Gate.EnterAsync().ConfigureAwait(false);
            try
            {
                runDone = EndLocked();
            }
            finally
            {
                vm.Gate.Exit();
            }
            if (runDone) await OnDoneAsync().ConfigureAwait(false);
        }
        finally
        {
            _plugin?.Return(_stream.Vm);
        }
    }

    /// <summary>Gate held. True when the done/log/delete tail is still to run.</summary>
    private bool EndLocked()
    {
        var s = _stream;
        if (s.Deleted) return false;
        if (s.Waiting is { } waiting)
        {
            s.Waiting = null;
            waiting.TrySetResult(FilterOutcome.Failure("request ended while the filter was paused"));
        }
        if (s.TerminalOutcome is not null || s.Vm.IsDead || s.PendingDone)
        {
            s.Vm.Forget(s); // an aborted request whose context was orphaned is not moved just to end it
            return false;
        }
        return true;
    }
}
