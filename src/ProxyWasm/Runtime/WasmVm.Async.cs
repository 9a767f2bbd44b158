using ProxyWasm.Abi;
using ProxyWasm.Contexts;
using ProxyWasm.Http;
using ProxyWasm.Shared;

namespace ProxyWasm.Runtime;

/// <summary>
/// Work that reaches the VM from outside a request callback — ticks, queue notifications, HTTP-call
/// completions (spec §5). Each is marshalled onto the VM: it takes <see cref="Gate"/>, checks the VM is alive,
/// runs the callback on the root context and settles whatever stream contexts the guest resumed.
/// </summary>
internal sealed partial class WasmVm : IQueueOwner
{
    private readonly Dictionary<uint, PendingHttpCall> _pendingCalls = new();
    private uint _nextToken = 1;

    public int PendingHttpCallCount => _pendingCalls.Count;

    /// <summary>Timer callback (thread pool): <c>proxy_on_tick(root)</c>, after the callback running on the VM.</summary>
    public async ValueTask RunTickAsync(RootContext root)
    {
        await Gate.EnterAsync().ConfigureAwait(false);
        try
        {
            if (IsDead || !ReferenceEquals(Root, root)) return;
            CallVoid(root, "proxy_on_tick", Exports.OnTick, root.Id);
        }
        finally
        {
            Gate.Exit();
        }
    }

    /// <summary>Posts <c>proxy_on_queue_ready</c> to this VM (never re-entrantly from the enqueuing host call).</summary>
    public void NotifyQueueReady(int rootContextId, uint token)
    {
        ThreadPool.UnsafeQueueUserWorkItem(static s => _ = s.vm.RunQueueReadyAsync(s.rootId, s.queue),
            (vm: this, rootId: rootContextId, queue: token), preferLocal: false);
    }

    private async Task RunQueueReadyAsync(int rootId, uint queue)
    {
        await Gate.EnterAsync().ConfigureAwait(false);
        try
        {
            if (IsDead || !_contexts.TryGetValue(rootId, out var root)) return;
            CallVoid(root, "proxy_on_queue_ready", Exports.OnQueueReady, rootId, (int)queue);
        }
        finally
        {
            Gate.Exit();
        }
    }

    /// <summary><c>proxy_http_call</c>: starts the call through the embedder's dispatcher; the token is unique for the VM's life.</summary>
    public WasmResult DispatchHttpCall(ContextBase active, HttpCallRequest request, out uint token)
    {
        token = 0;
        var dispatcher = Host.HttpCallDispatcher;
        if (dispatcher is null || !dispatcher.IsKnownUpstream(request.Upstream)) return WasmResult.BadArgument;
        token = _nextToken++;
        var call = new PendingHttpCall(token, active.Root, active.Stream, new CancellationTokenSource());
        // on behalf of the request only while it waits on this filter: its thread touches nothing of it meanwhile
        if (active.Stream is { } stream && (ReferenceEquals(Current, stream) || stream.Waiting is not null)) request.Origin = stream.Host;
        Task<HttpCallResponse> task;
        try
        {
            task = dispatcher.SendAsync(request, call.Cancellation.Token);
        }
        catch (Exception)
        {
            call.Cancellation.Dispose();
            return WasmResult.InternalFailure;
        }
        _pendingCalls[token] = call;
        if (call.Origin is { } origin) origin.PendingHttpCalls++;
        _ = CompleteHttpCallAsync(call, task, request.Timeout);
        return WasmResult.Ok;
    }

    private async Task CompleteHttpCallAsync(PendingHttpCall call, Task<HttpCallResponse> task, TimeSpan timeout)
    {
        HttpCallResponse response;
        try
        {
            response = await task.WaitAsync(timeout, Host.TimeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            call.Cancellation.Cancel();
            response = HttpCallResponse.Failure("timeout");
        }
        catch (Exception)
        {
            response = HttpCallResponse.Failure("reset");
        }
        await Task.Yield(); // never deliver inline on the thread that issued the call
        await Gate.EnterAsync().ConfigureAwait(false);
        try
        {
            DeliverHttpCallResponse(call, response);
        }
        finally
        {
            Gate.Exit();
        }
    }

    /// <summary><c>proxy_on_http_call_response(root, token, headers, body, trailers)</c>; 0 headers means failure.</summary>
    private void DeliverHttpCallResponse(PendingHttpCall call, HttpCallResponse response)
    {
        if (IsDead || !_pendingCalls.Remove(call.Token)) return; // VM gone or call cancelled
        call.Cancellation.Dispose();
        var origin = call.Origin;
        if (origin is not null)
        {
            origin.PendingHttpCalls--;
            if (origin.Deleted || origin.TerminalOutcome is not null) return;
        }
        var root = call.Root;
        root.BeginCallResponse(response);
        int headers = response.Failed ? 0 : response.Headers.Count;
        int body = response.Failed ? 0 : response.Body.Length;
        int trailers = response.Failed ? 0 : response.Trailers.Count;
        var fn = Exports.OnHttpCallResponse;
        var observer = fn is null ? null : origin?.Observer;
        var waiting = origin?.Waiting;
        observer?.Started(FilterCallback.HttpCallResponse);
        bool ok = true;
        if (fn is not null)
        {
            Call(root, "proxy_on_http_call_response", (Fn: fn, Root: root.Id, Token: (int)call.Token, H: headers, B: body, T: trailers),
                static s => { s.Fn(s.Root, s.Token, s.H, s.B, s.T); return 0; }, 0, out ok);
        }
        root.EndCallResponse();
        if (origin is not null && !IsDead)
        {
            Touch(origin);
            SettleTouched();
        }
        // after settling: the outcome is what became of the phase the call paused
        observer?.Ended(FilterCallback.HttpCallResponse, CallResponseOutcome(origin!, waiting, ok), ok ? null : DeathReason ?? "VM failed");
    }

    /// <summary>What the response callback did to the context that dispatched the call: the paused phase it resumed
    /// (or answered, or closed), or still paused; a local response or close asked for an unpaused context.</summary>
    private static FilterCallbackOutcome CallResponseOutcome(StreamContext origin, TaskCompletionSource<FilterOutcome>? waiting, bool ok)
    {
        if (!ok) return FilterCallbackOutcome.Trap;
        if (origin.Waiting is not null && ReferenceEquals(origin.Waiting, waiting)) return FilterCallbackOutcome.Pause;
        if (waiting is { Task.IsCompletedSuccessfully: true })
        {
            return waiting.Task.Result.Kind switch
            {
                FilterOutcomeKind.LocalResponse => FilterCallbackOutcome.LocalResponse,
                FilterOutcomeKind.Closed => FilterCallbackOutcome.Close,
                FilterOutcomeKind.Failed => FilterCallbackOutcome.Trap,
                _ => FilterCallbackOutcome.Continue,
            };
        }
        if (origin.PendingLocalResponse is not null) return FilterCallbackOutcome.LocalResponse;
        return origin.CloseRequested ? FilterCallbackOutcome.Close : FilterCallbackOutcome.Continue;
    }

    /// <summary>Cancels the callouts a stream context issued (local response, end of request).</summary>
    public void CancelHttpCallsOf(StreamContext context)
    {
        // runs for every finished stream: no closure or list unless this stream has calls in flight
        if (context.PendingHttpCalls == 0 || _pendingCalls.Count == 0) return;
        CancelPendingCalls(context);
    }

    private void CancelPendingCalls(StreamContext context)
    {
        foreach (var call in _pendingCalls.Values.Where(c => ReferenceEquals(c.Origin, context)).ToList())
        {
            _pendingCalls.Remove(call.Token);
            context.PendingHttpCalls--;
            call.Cancellation.Cancel();
        }
    }

    private void CancelAllHttpCalls()
    {
        foreach (var call in _pendingCalls.Values) call.Cancellation.Cancel();
        _pendingCalls.Clear();
    }
}
