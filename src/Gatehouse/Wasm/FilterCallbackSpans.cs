using Gatehouse.Proxy.Tracing;
using ProxyWasm.Contexts;

namespace Gatehouse.Wasm;

/// <summary>
/// The spans of one filter entry's callbacks in one traced request (<c>tracing_instrumentations</c> with
/// <c>wasm_filters</c>): <c>gatehouse.wasm.&lt;filter&gt;</c>, a child of the request span, timed around the guest call
/// itself. Only callbacks the module exports are ever reported (the host makes no others). Body callbacks are
/// folded into one span per direction (first call's start to last call's end, <c>gatehouse.filter.calls</c> = how
/// many, the strongest outcome of them): a streamed body calls the filter once per chunk, and a span per chunk would
/// let one large upload or download flood the export queue and push out other requests' traces.
/// </summary>
internal sealed class FilterCallbackSpans : IFilterCallbackObserver
{
    private readonly RequestTrace _trace;
    private readonly string _spanName;
    private readonly string _filter;
    private readonly FilterEntryOrigin _origin;
    private TraceSpan? _open;
    // the step span open around this callback (a plugin's, or none), restored when it ends
    private TraceSpan? _outer;
    private TraceSpan? _requestBody, _responseBody;
    private int _requestBodyCalls, _responseBodyCalls;
    private FilterCallbackOutcome _requestBodyOutcome, _responseBodyOutcome;
    // Kong's phase of the last callback: an HTTP-call response resumes the phase that dispatched the call
    private string _phase = "access";

    public FilterCallbackSpans(RequestTrace trace, string filter, FilterEntryOrigin origin)
    {
        _trace = trace;
        _filter = filter;
        _spanName = "gatehouse.wasm." + filter;
        _origin = origin;
    }

    public void Started(FilterCallback callback)
    {
        if (callback != FilterCallback.HttpCallResponse) _phase = Phase(callback);
        if (callback == FilterCallback.RequestBody) _open = _requestBody ??= Open(callback);
        else if (callback == FilterCallback.ResponseBody) _open = _responseBody ??= Open(callback);
        else _open = Open(callback);
        // what the callback asks of others (a dispatch_http_call: kong.internal.request) is its child
        _outer = _trace.Current;
        _trace.Current = _open;
    }

    public void Ended(FilterCallback callback, FilterCallbackOutcome outcome, string? error)
    {
        if (_open is not { } span) return;
        _open = null;
        _trace.Current = _outer;
        RequestTrace.Close(span);
        if (callback == FilterCallback.RequestBody)
        {
            outcome = _requestBodyOutcome = Strongest(_requestBodyOutcome, outcome);
            span.Set("gatehouse.filter.calls", (long)++_requestBodyCalls);
        }
        else if (callback == FilterCallback.ResponseBody)
        {
            outcome = _responseBodyOutcome = Strongest(_responseBodyOutcome, outcome);
            span.Set("gatehouse.filter.calls", (long)++_responseBodyCalls);
        }
        span.Set("gatehouse.filter.outcome", Name(outcome));
        if (error is not null) span.Error ??= error;
    }

    private TraceSpan Open(FilterCallback callback)
    {
        var span = _trace.Open(_spanName);
        span.Set("gatehouse.filter.name", _filter);
        span.Set("gatehouse.filter.callback", Callback(callback));
        span.Set("gatehouse.phase", _phase);
        span.Set("gatehouse.filter_chain.scope", _origin.Scope);
        if (_origin.ChainIdText is { } chainId) span.Set("gatehouse.filter_chain.id", chainId);
        if (_origin.ChainName is not null) span.Set("gatehouse.filter_chain.name", _origin.ChainName);
        if (_origin.PluginIdText is { } pluginId) span.Set("gatehouse.filter.plugin_id", pluginId);
        return span;
    }

    // trap > close > local_response > pause > continue (the enum's order)
    private static FilterCallbackOutcome Strongest(FilterCallbackOutcome a, FilterCallbackOutcome b) => a > b ? a : b;

    /// <summary>Kong's phase each callback runs in (ngx_wasm_module: request body in the content phase, before the
    /// upstream request; response steps in the header and body filters; the tail in log).</summary>
    private static string Phase(FilterCallback callback) => callback switch
    {
        FilterCallback.RequestHeaders => "access",
        FilterCallback.RequestBody or FilterCallback.RequestTrailers => "content",
        FilterCallback.ResponseHeaders => "header_filter",
        FilterCallback.ResponseBody or FilterCallback.ResponseTrailers => "body_filter",
        _ => "log",
    };

    private static string Callback(FilterCallback callback) => callback switch
    {
        FilterCallback.RequestHeaders => "on_request_headers",
        FilterCallback.RequestBody => "on_request_body",
        FilterCallback.RequestTrailers => "on_request_trailers",
        FilterCallback.ResponseHeaders => "on_response_headers",
        FilterCallback.ResponseBody => "on_response_body",
        FilterCallback.ResponseTrailers => "on_response_trailers",
        FilterCallback.HttpCallResponse => "on_http_call_response",
        FilterCallback.Done => "on_done",
        FilterCallback.Log => "on_log",
        _ => "on_delete",
    };

    private static string Name(FilterCallbackOutcome outcome) => outcome switch
    {
        FilterCallbackOutcome.Continue => "continue",
        FilterCallbackOutcome.Pause => "pause",
        FilterCallbackOutcome.LocalResponse => "local_response",
        FilterCallbackOutcome.Close => "close",
        _ => "trap",
    };
}
