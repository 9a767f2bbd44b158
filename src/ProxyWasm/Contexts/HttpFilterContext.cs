using ProxyWasm.Http;
using ProxyWasm.Runtime;

namespace ProxyWasm.Contexts;

/// <summary>
/// One request's context for one filter entry, on the VM leased to the request. Call the phases in order (spec §2.3); each
/// returns a <see cref="FilterOutcome"/> synchronously unless the filter paused (e.g. waiting for an HTTP call),
/// in which case the task completes when the filter resumes, answers locally or fails.
/// Body phases read and edit <see cref="IHttpStreamHost.RequestBody"/>/<see cref="IHttpStreamHost.ResponseBody"/>;
/// <see cref="FilterOutcomeKind.BufferBody"/> asks the embedder to append the next chunk and call again.
/// Not thread-safe per instance: one phase at a time, like the request it belongs to.
/// </summary>
public sealed class HttpFilterContext : IDisposable
{
    private readonly WasmVm _vm;
    private readonly StreamContext _stream;
    private FilterPlugin? _lease;

    internal HttpFilterContext(WasmVm vm, StreamContext stream, FilterPlugin? lease = null)
    {
        _vm = vm;
        _stream = stream;
        _lease = lease;
    }

    internal StreamContext Stream => _stream;

    internal WasmVm Vm => _vm;

    /// <summary>Guest context id (unique within the VM).</summary>
    public int ContextId => _stream.Id;

    /// <summary>Told about every guest callback made on this context from now on (set before the first phase;
    /// null: none).</summary>
    public IFilterCallbackObserver? Observer
    {
        get => _stream.Observer;
        set => _stream.Observer = value;
    }

    /// <summary>True once the VM serving this request failed (further phases return the failure outcome).</summary>
    public bool IsFailed => _stream.TerminalOutcome is not null;

    /// <summary><c>proxy_on_request_headers(ctx, n, end_of_stream)</c> (0.1.0: without end_of_stream).</summary>
    public ValueTask<FilterOutcome> OnRequestHeadersAsync(bool endOfStream)
        => Run(FilterPhase.RequestHeaders, endOfStream, _stream.Host.RequestHeaders.Count);

    /// <summary><c>proxy_on_request_body(ctx, body_size, end_of_stream)</c>; body_size = bytes currently in the request buffer.</summary>
    public ValueTask<FilterOutcome> OnRequestBodyAsync(bool endOfStream)
        => Run(FilterPhase.RequestBody, endOfStream, _stream.Host.RequestBody.Length);

    /// <summary><c>proxy_on_request_trailers(ctx, n)</c>.</summary>
    public ValueTask<FilterOutcome> OnRequestTrailersAsync()
        => Run(FilterPhase.RequestTrailers, true, _stream.Host.RequestTrailers.Count);

    /// <summary><c>proxy_on_response_headers(ctx, n, end_of_stream)</c>; also run on a local response.</summary>
    public ValueTask<FilterOutcome> OnResponseHeadersAsync(bool endOfStream)
        => Run(FilterPhase.ResponseHeaders, endOfStream, _stream.Host.ResponseHeaders.Count);

    /// <summary><c>proxy_on_response_body(ctx, body_size, end_of_stream)</c>. Response headers count as sent from here on.</summary>
    public ValueTask<FilterOutcome> OnResponseBodyAsync(bool endOfStream)
        => Run(FilterPhase.ResponseBody, endOfStream, _stream.Host.ResponseBody.Length);

    /// <summary><c>proxy_on_response_trailers(ctx, n)</c>.</summary>
    public ValueTask<FilterOutcome> OnResponseTrailersAsync()
        => Run(FilterPhase.ResponseTrailers, true, _stream.Host.ResponseTrailers.Count);

    /// <summary>
    /// End of request: <c>proxy_on_done</c> → <c>proxy_on_log</c> → <c>proxy_on_delete</c>. If on_done returns
    /// false the tail runs when the guest calls <c>proxy_done()</c>. Skipped for contexts of a failed VM.
    /// </summary>
    public ValueTask<FilterOutcome> OnDoneAsync()
    {
        lock (_vm.Gate)
        {
            if (_stream.TerminalOutcome is { } terminal) { _vm.Forget(_stream); return new(terminal); }
            if (_stream.Deleted || _stream.PendingDone) return new(FilterOutcome.Continue);
            _vm.CancelHttpCallsOf(_stream);
            var observer = _vm.Exports.OnDone is null ? null : _stream.Observer;
            observer?.Started(FilterCallback.Done);
            int done = _vm.CallFunc(_stream, "proxy_on_done", _vm.Exports.OnDone, _stream.Id, 1, out var ok);
            observer?.Ended(FilterCallback.Done, !ok ? FilterCallbackOutcome.Trap : done != 0 ? FilterCallbackOutcome.Continue : FilterCallbackOutcome.Pause,
                ok ? null : _vm.DeathReason);
            if (!ok) return new(_stream.TerminalOutcome ?? FilterOutcome.Failure(_vm.DeathReason ?? "VM failed"));
            if (done != 0) _vm.FinishStream(_stream);
            else _stream.PendingDone = true;
            return new(_stream.TerminalOutcome ?? FilterOutcome.Continue);
        }
    }

    private ValueTask<FilterOutcome> Run(FilterPhase phase, bool endOfStream, int size)
    {
        lock (_vm.Gate)
        {
            var s = _stream;
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
            var observer = s.Observer is { } o && _vm.Exports.Exports(phase) ? o : null;
            if (observer is null) return Invoke(s, phase, endOfStream, size, out _);
            var callback = Callback(phase);
            observer.Started(callback);
            var result = Invoke(s, phase, endOfStream, size, out var ok);
            observer.Ended(callback, Observed(result, ok), ok ? null : _vm.DeathReason ?? "VM failed");
            return result;
        }
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
    private ValueTask<FilterOutcome> Invoke(StreamContext s, FilterPhase phase, bool endOfStream, int size, out bool ok)
    {
        int eos = endOfStream ? 1 : 0;
        var x = _vm.Exports;
        bool v01 = _vm.Abi == Abi.AbiVersion.V0_1_0;
        int action = phase switch
        {
            FilterPhase.RequestHeaders when v01 => _vm.CallFunc(s, "proxy_on_request_headers", x.OnRequestHeaders01, s.Id, size, 0, out ok),
            FilterPhase.RequestHeaders => _vm.CallFunc(s, "proxy_on_request_headers", x.OnRequestHeaders, s.Id, size, eos, 0, out ok),
            FilterPhase.RequestBody => _vm.CallFunc(s, "proxy_on_request_body", x.OnRequestBody, s.Id, size, eos, 0, out ok),
            FilterPhase.RequestTrailers => _vm.CallFunc(s, "proxy_on_request_trailers", x.OnRequestTrailers, s.Id, size, 0, out ok),
            FilterPhase.ResponseHeaders when v01 => _vm.CallFunc(s, "proxy_on_response_headers", x.OnResponseHeaders01, s.Id, size, 0, out ok),
            FilterPhase.ResponseHeaders => _vm.CallFunc(s, "proxy_on_response_headers", x.OnResponseHeaders, s.Id, size, eos, 0, out ok),
            FilterPhase.ResponseBody => _vm.CallFunc(s, "proxy_on_response_body", x.OnResponseBody, s.Id, size, eos, 0, out ok),
            _ => _vm.CallFunc(s, "proxy_on_response_trailers", x.OnResponseTrailers, s.Id, size, 0, out ok),
        };
        if (!ok) return new(s.TerminalOutcome ?? FilterOutcome.Failure(_vm.DeathReason ?? "VM failed"));
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

    /// <summary>
    /// Ends the context if the embedder did not call <see cref="OnDoneAsync"/> (aborted request): a paused phase
    /// completes as failed, pending callouts are cancelled and the done/log/delete tail runs. Then the VM leased to
    /// this request goes back to its plugin's pool.
    /// </summary>
    public void Dispose()
    {
        try { End(); }
        finally
        {
            if (Interlocked.Exchange(ref _lease, null) is { } plugin) plugin.Return(_vm);
        }
    }

    private void End()
    {
        lock (_vm.Gate)
        {
            if (_stream.Deleted) return;
            if (_stream.Waiting is { } waiting)
            {
                _stream.Waiting = null;
                waiting.TrySetResult(FilterOutcome.Failure("request ended while the filter was paused"));
            }
            if (_stream.TerminalOutcome is not null || _vm.IsDead || _stream.PendingDone)
            {
                _vm.Forget(_stream);
                return;
            }
        }
        _ = OnDoneAsync();
    }
}
