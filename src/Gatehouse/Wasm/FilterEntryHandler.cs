using Gatehouse.Proxy.Pipeline;
using Microsoft.Extensions.Logging;
using ProxyWasm.Http;

namespace Gatehouse.Wasm;

/// <summary>
/// One filter entry of a route's effective chain, in every phase: on_request_headers in access,
/// on_request_body, on_response_headers, on_response_body, and on_done/on_log in the log phase. Shared by the
/// requests of a snapshot; per-request state is <see cref="WasmRequestState"/>. Nothing runs for a request whose
/// access phase ended before the chain attached (a plugin or the core answered). The body steps are filed in the
/// plan through <see cref="FilterRequestBodyHandler"/>/<see cref="FilterResponseBodyHandler"/> only when the module
/// exports the callback, so a headers-only filter keeps bodies streaming untouched (and Content-Length intact).
/// The entries of one chain share a <see cref="WasmRequestStatePool"/>, from which the entry that runs first takes the
/// request's state.
/// </summary>
internal sealed class FilterEntryHandler(IReadOnlyList<SharedFilterPlugin> chain, int index, WasmGatewayLimits limits, ILogger logger,
    ProxyWasm.Runtime.LogRateLimiter logLimiter, IReadOnlyList<FilterEntryOrigin>? origins = null, WasmRequestStatePool? states = null)
    : IAccessHandler, IResponseHeadersHandler, ILogHandler
{
    public string Name => chain[index].Plugin.Config.Name;

    public string Kind => "filter";

    private ProxyWasm.Runtime.FilterPlugin Plugin => chain[index].Plugin;

    /// <summary>
    /// Synchronous when it can be (the common request): no pool hop is due, every context opens at once and the
    /// guest's callback runs now (its VM's gate was free and the filter did not pause). Anything else continues on
    /// the awaiting path from where it stands, so a busy VM, a paused filter or a slow plugin behave as before.
    /// </summary>
    public ValueTask<PhaseOutcome> OnAccessAsync(ProxyContext context)
    {
        var state = WasmRequestState.Of(context);
        if (state is null)
        {
            // every entry's proxy_on_context_create runs now (this one's included): leave the event loop if any of
            // them is a slow one
            for (var i = 0; i < chain.Count; i++)
                if (!GuestThread.StaysOn(chain[i].Plugin)) return AccessAsync(context);
            // Attach: every entry gets its context now (Kong creates the whole plan's contexts), so response
            // steps run for all filters even when one answers locally in on_request_headers.
            state = WasmRequestState.Attach(context, chain.Count, states);
            for (var i = 0; i < chain.Count; i++)
            {
                if (!chain[i].TryAcquire()) return new(Fail(context, state, "request_headers", "filter entry was released"));
                state.Leases[i] = chain[i];
                var creating = chain[i].Plugin.CreateHttpContextAsync(state.Stream, context.HttpContext.RequestAborted);
                if (!creating.IsCompletedSuccessfully) return AttachRestAsync(context, state, i + 1, creating);
                Opened(context, state, i, creating.Result);
            }
        }
        else if (!GuestThread.StaysOn(Plugin)) return AccessAsync(context);
        return RequestHeaders(context, state);
    }

    private async ValueTask<PhaseOutcome> AccessAsync(ProxyContext context)
    {
        if (WasmRequestState.Of(context) is { } state)
        {
            await GuestThread.Leave(Plugin);
            return await RequestHeaders(context, state);
        }
        for (var i = 0; i < chain.Count; i++) await GuestThread.Leave(chain[i].Plugin);
        return await AttachRestAsync(context, WasmRequestState.Attach(context, chain.Count, states), 0, null);
    }

    /// <summary>The attach from entry <paramref name="next"/> on, awaiting each context as it opens, then this entry's
    /// request headers; <paramref name="opening"/> is entry <c>next - 1</c>'s context still opening (its plugin starts a
    /// VM, or the VM is busy), when the synchronous attach stopped there.</summary>
    private async ValueTask<PhaseOutcome> AttachRestAsync(ProxyContext context, WasmRequestState state, int next,
        ValueTask<ProxyWasm.Contexts.HttpFilterContext>? opening)
    {
        if (opening is { } creating) Opened(context, state, next - 1, await creating);
        for (var i = next; i < chain.Count; i++)
        {
            if (!chain[i].TryAcquire()) return Fail(context, state, "request_headers", "filter entry was released");
            state.Leases[i] = chain[i];
            Opened(context, state, i, await chain[i].Plugin.CreateHttpContextAsync(state.Stream, context.HttpContext.RequestAborted));
        }
        return await RequestHeaders(context, state);
    }

    private void Opened(ProxyContext context, WasmRequestState state, int i, ProxyWasm.Contexts.HttpFilterContext http)
    {
        if (context.Trace is { } trace && trace.Traces(Config.TracedSteps.WasmFilters))
            http.Observer = new FilterCallbackSpans(trace, chain[i].Plugin.Config.Name, origins is not null && i < origins.Count ? origins[i] : FilterEntryOrigin.Unknown);
        state.Contexts[i] = http;
    }

    private ValueTask<PhaseOutcome> RequestHeaders(ProxyContext context, WasmRequestState state)
    {
        if (state.Failed || state.Contexts[index] is not { } entry) return new(PhaseOutcome.Continue);
        var running = entry.OnRequestHeadersAsync(false);
        return running.IsCompletedSuccessfully ? new(AfterRequestHeaders(context, state, running.Result)) : RequestHeadersAsync(context, state, running);
    }

    private async ValueTask<PhaseOutcome> RequestHeadersAsync(ProxyContext context, WasmRequestState state, ValueTask<FilterOutcome> running) =>
        AfterRequestHeaders(context, state, await running);

    private PhaseOutcome AfterRequestHeaders(ProxyContext context, WasmRequestState state, FilterOutcome outcome)
    {
        if (index == chain.Count - 1) state.RestoreClientForwardingHeaders(context.HttpContext.Request.Headers);
        return outcome.Kind switch
        {
            FilterOutcomeKind.LocalResponse => context.Exit(ToLocal(outcome.LocalResponse!)),
            FilterOutcomeKind.Failed or FilterOutcomeKind.Closed => Fail(context, state, "request_headers", outcome.Error),
            _ => PhaseOutcome.Continue,
        };
    }

    public async ValueTask<BodyOutcome> OnRequestBodyAsync(ProxyContext context, BodyChunk chunk)
    {
        if (Active(context) is not { } http) return BodyOutcome.Continue;
        await GuestThread.Leave(Plugin);
        var state = WasmRequestState.Of(context)!;
        var body = state.Stream.RequestBody;
        int version = Mirror(body, chunk);
        var outcome = await http.OnRequestBodyAsync(chunk.EndOfStream);
        switch (outcome.Kind)
        {
            case FilterOutcomeKind.Failed or FilterOutcomeKind.Closed:
                Fail(context, state, "request_body", outcome.Error);
                throw new RequestBodyStoppedException($"filter {Name} failed in on_request_body");
            case FilterOutcomeKind.LocalResponse:
                context.Exit(ToLocal(outcome.LocalResponse!));
                throw new RequestBodyStoppedException($"filter {Name} answered in on_request_body");
            case FilterOutcomeKind.BufferBody when !chunk.EndOfStream:
                if (body.Length > limits.MaxBufferedRequestBodyBytes)
                {
                    context.Exit(413, "Request Entity Too Large");
                    throw new RequestBodyStoppedException("request body buffered by a filter exceeds the limit");
                }
                TakeEdits(body, chunk, version);
                return BodyOutcome.Buffer;
        }
        TakeEdits(body, chunk, version);
        return BodyOutcome.Continue;
    }

    /// <summary>Synchronous when the guest's callback runs now (see <see cref="OnAccessAsync"/>).</summary>
    public ValueTask OnResponseHeadersAsync(ProxyContext context)
    {
        if (Active(context) is not { } http) return default;
        if (!GuestThread.StaysOn(Plugin)) return ResponseHeadersAsync(context, http);
        var running = http.OnResponseHeadersAsync(false);
        if (!running.IsCompletedSuccessfully) return AfterResponseHeadersAsync(context, running);
        AfterResponseHeaders(context, running.Result);
        return default;
    }

    private async ValueTask ResponseHeadersAsync(ProxyContext context, ProxyWasm.Contexts.HttpFilterContext http)
    {
        await GuestThread.Leave(Plugin);
        AfterResponseHeaders(context, await http.OnResponseHeadersAsync(false));
    }

    private async ValueTask AfterResponseHeadersAsync(ProxyContext context, ValueTask<FilterOutcome> running) =>
        AfterResponseHeaders(context, await running);

    private void AfterResponseHeaders(ProxyContext context, FilterOutcome outcome)
    {
        if (outcome.Kind is FilterOutcomeKind.Failed or FilterOutcomeKind.Closed) MarkFailed(context, "response_headers", outcome.Error);
    }

    /// <summary>Synchronous when the guest's callback runs now (see <see cref="OnAccessAsync"/>).</summary>
    public ValueTask<BodyOutcome> OnResponseBodyAsync(ProxyContext context, BodyChunk chunk)
    {
        if (Active(context) is not { } http) return new(BodyOutcome.Continue);
        if (!GuestThread.StaysOn(Plugin)) return ResponseBodyAsync(context, http, chunk);
        var body = WasmRequestState.Of(context)!.Stream.ResponseBody;
        int version = Mirror(body, chunk);
        var running = http.OnResponseBodyAsync(chunk.EndOfStream);
        return running.IsCompletedSuccessfully
            ? new(AfterResponseBody(context, chunk, body, version, running.Result))
            : AfterResponseBodyAsync(context, chunk, body, version, running);
    }

    private async ValueTask<BodyOutcome> ResponseBodyAsync(ProxyContext context, ProxyWasm.Contexts.HttpFilterContext http, BodyChunk chunk)
    {
        await GuestThread.Leave(Plugin);
        var body = WasmRequestState.Of(context)!.Stream.ResponseBody;
        int version = Mirror(body, chunk);
        return AfterResponseBody(context, chunk, body, version, await http.OnResponseBodyAsync(chunk.EndOfStream));
    }

    private async ValueTask<BodyOutcome> AfterResponseBodyAsync(ProxyContext context, BodyChunk chunk, BodyBuffer body, int version,
        ValueTask<FilterOutcome> running) =>
        AfterResponseBody(context, chunk, body, version, await running);

    private BodyOutcome AfterResponseBody(ProxyContext context, BodyChunk chunk, BodyBuffer body, int version, FilterOutcome outcome)
    {
        if (outcome.Kind is FilterOutcomeKind.Failed or FilterOutcomeKind.Closed)
        {
            MarkFailed(context, "response_body", outcome.Error);
            return BodyOutcome.Continue;
        }
        if (outcome.Kind == FilterOutcomeKind.BufferBody && !chunk.EndOfStream && body.Length > limits.MaxBufferedResponseBodyBytes)
        {
            // nothing was sent yet; the upstream's body is too large to hold: end the response rather than grow
            MarkFailed(context, "response_body", $"response body buffered by the filter exceeds {limits.MaxBufferedResponseBodyBytes} bytes");
            throw new IOException("response body buffered by a filter exceeds the limit");
        }
        TakeEdits(body, chunk, version);
        return outcome.Kind == FilterOutcomeKind.BufferBody && !chunk.EndOfStream ? BodyOutcome.Buffer : BodyOutcome.Continue;
    }

    /// <summary>on_request_trailers, after the request body's end of stream; the trailers are read-only (the upstream
    /// client cannot send request trailers), a write answers BadArgument.</summary>
    public async ValueTask OnRequestTrailersAsync(ProxyContext context)
    {
        if (Active(context) is not { } http) return;
        await GuestThread.Leave(Plugin);
        var state = WasmRequestState.Of(context)!;
        var outcome = await http.OnRequestTrailersAsync();
        switch (outcome.Kind)
        {
            case FilterOutcomeKind.Failed or FilterOutcomeKind.Closed:
                Fail(context, state, "request_trailers", outcome.Error);
                throw new RequestBodyStoppedException($"filter {Name} failed in on_request_trailers");
            case FilterOutcomeKind.LocalResponse:
                context.Exit(ToLocal(outcome.LocalResponse!));
                throw new RequestBodyStoppedException($"filter {Name} answered in on_request_trailers");
        }
    }

    /// <summary>on_response_trailers, after the response body's end of stream; the filter may change the trailers
    /// before they are sent.</summary>
    public async ValueTask OnResponseTrailersAsync(ProxyContext context)
    {
        if (Active(context) is not { } http) return;
        await GuestThread.Leave(Plugin);
        var outcome = await http.OnResponseTrailersAsync();
        if (outcome.Kind is FilterOutcomeKind.Failed or FilterOutcomeKind.Closed) MarkFailed(context, "response_trailers", outcome.Error);
    }

    /// <summary>
    /// Shows the chain's data to the filter: only the bytes it has not seen are appended to its body buffer (which
    /// already holds the rest, kept from its previous, buffering call), so buffering a body costs O(n). Returns the
    /// buffer's version after this write.
    /// </summary>
    private static int Mirror(BodyBuffer body, BodyChunk chunk)
    {
        if (chunk.Seen > 0 && body.Length == chunk.Seen) body.Append(chunk.Data.Span[chunk.Seen..]);
        else body.Set(chunk.Data.Span);
        return body.Version;
    }

    /// <summary>Hands the filter's edits back to the chain; an unedited body passes on without a copy (the chain
    /// consumes or copies it before the next chunk is mirrored).</summary>
    private static void TakeEdits(BodyBuffer body, BodyChunk chunk, int version)
    {
        if (body.Version != version) chunk.Replace(body.Memory);
    }

    /// <summary>Synchronous when the done/log/delete tail runs now (see <see cref="OnAccessAsync"/>); the entry is
    /// released after it either way.</summary>
    public ValueTask OnLogAsync(ProxyContext context)
    {
        if (WasmRequestState.Of(context) is not { } state) return default;
        if (!GuestThread.StaysOn(Plugin)) return LogAsync(state); // on_done/on_log, or the tail Release runs for an unfinished context
        ValueTask<FilterOutcome> done = default;
        try
        {
            if (!state.Failed && state.Contexts[index] is { IsFailed: false } http) done = http.OnDoneAsync();
        }
        catch
        {
            state.Release(index);
            throw;
        }
        if (!done.IsCompletedSuccessfully) return ReleaseAfterAsync(state, done);
        state.Release(index);
        return default;
    }

    private async ValueTask LogAsync(WasmRequestState state)
    {
        await GuestThread.Leave(Plugin);
        try
        {
            if (!state.Failed && state.Contexts[index] is { IsFailed: false } http) await http.OnDoneAsync();
        }
        finally { state.Release(index); }
    }

    private async ValueTask ReleaseAfterAsync(WasmRequestState state, ValueTask<FilterOutcome> done)
    {
        try { await done; }
        finally { state.Release(index); }
    }

    private ProxyWasm.Contexts.HttpFilterContext? Active(ProxyContext context) =>
        WasmRequestState.Of(context) is { Failed: false } state && state.Contexts[index] is { IsFailed: false } http ? http : null;

    private void MarkFailed(ProxyContext context, string step, string? error)
    {
        WasmRequestState.Of(context)!.Failed = true;
        WasmLog.FilterFailed(logger, logLimiter, Name, step, error);
    }

    private PhaseOutcome Fail(ProxyContext context, WasmRequestState state, string step, string? error)
    {
        state.Failed = true;
        WasmLog.FilterFailed(logger, logLimiter, Name, step, error);
        return context.Exit(500, "An unexpected error occurred");
    }

    private static Proxy.Pipeline.LocalResponse ToLocal(ProxyWasm.Http.LocalResponse r) =>
        new(r.StatusCode is >= 100 and <= 599 ? r.StatusCode : 500, r.Body, r.Headers);
}
