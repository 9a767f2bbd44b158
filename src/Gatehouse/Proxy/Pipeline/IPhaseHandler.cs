namespace Gatehouse.Proxy.Pipeline;

/// <summary>
/// Common shape of every phase handler (C# plugins, Wasm filter chains, core concerns). A handler instance is
/// shared by all requests of a snapshot: keep per-request state in <see cref="ProxyContext"/>, never in fields.
/// Phases run in this order: rewrite → access → request body (while the upstream reads it) → request trailers →
/// (upstream) → response headers → response body → response trailers → log.
/// </summary>
public interface IPhaseHandler
{
    /// <summary>Name used in logs and diagnostics (e.g. the plugin or filter name).</summary>
    string Name { get; }

    /// <summary>What kind of step this is in diagnostics such as <c>GET /routes/{r}/plan</c>: "plugin", "filter" or
    /// "core" (the default).</summary>
    string Kind => "core";

    /// <summary>Request debugging only: the configured instance this handler runs as for this request (a plugin's
    /// id), or null when none applies. Not called for other requests.</summary>
    string? DebugInstance(ProxyContext context) => null;

    /// <summary>The span a traced plugin step records in <paramref name="phase"/>: Kong's
    /// <c>kong.&lt;phase&gt;.plugin.&lt;name&gt;</c>.</summary>
    string TraceSpanName(string phase) => $"kong.{phase}.plugin.{Name}";

    /// <summary>Records spans of its own in the request's trace besides its step span (a filter's callbacks, a plugin's
    /// store query): the trace must exist before it runs, so sampling is not decided after it
    /// (<see cref="Tracing.PendingTrace.Defer"/>).</summary>
    bool RecordsSpans => Kind != "plugin";

    /// <summary>The bits of <see cref="ProxyContext.SkippedSteps"/> that pass over this step in the header_filter and log
    /// phases of a request that set any of them (a plugin with nothing left to do for that request:
    /// <c>Plugins.Kong.SkipLaterPhases</c>); 0, the default: the step always runs. Read once per plan.</summary>
    ulong SkipBits => 0;
}

/// <summary>Rewrite phase: before routing; only handlers of the global plan run here (Kong: global plugins only).</summary>
public interface IRewriteHandler : IPhaseHandler
{
    ValueTask<PhaseOutcome> OnRewriteAsync(ProxyContext context);
}

/// <summary>Access phase: after routing, before the upstream; may modify the request, short-circuit, or await
/// asynchronous work (an HTTP call, a Wasm dispatch) — awaiting is how a handler pauses the request.</summary>
public interface IAccessHandler : IPhaseHandler
{
    ValueTask<PhaseOutcome> OnAccessAsync(ProxyContext context);
}

/// <summary>Request body phase: called per chunk as the upstream request body is read, and once more at end of
/// stream; a handler may replace or buffer the data (Proxy-Wasm on_request_body). When any request-body handler is
/// present the upstream request is sent without Content-Length.</summary>
public interface IRequestBodyHandler : IPhaseHandler
{
    ValueTask<BodyOutcome> OnRequestBodyAsync(ProxyContext context, BodyChunk chunk);
}

/// <summary>Response headers phase: status and headers are in <c>context.HttpContext.Response</c> and may be
/// changed; runs for upstream answers and for local (short-circuit or error) answers alike.</summary>
public interface IResponseHeadersHandler : IPhaseHandler
{
    ValueTask OnResponseHeadersAsync(ProxyContext context);
}

/// <summary>Response body phase: called per chunk and once more at end of stream. A handler may replace the data
/// (<see cref="BodyChunk.Replace"/>) or buffer it (<see cref="BodyOutcome.Buffer"/>). When any body handler
/// is present for a request the Content-Length header is removed, since the length may change.</summary>
public interface IResponseBodyHandler : IPhaseHandler
{
    ValueTask<BodyOutcome> OnResponseBodyAsync(ProxyContext context, BodyChunk chunk);
}

/// <summary>Request trailers phase: once, after the request body's end of stream, when the client sent trailers
/// (HTTP/2, or a chunked HTTP/1.1 body). They are in <c>IHttpRequestTrailersFeature</c>, read-only: the upstream
/// client (.NET's HttpClient) cannot send request trailers, so they do not reach the upstream.</summary>
public interface IRequestTrailersHandler : IPhaseHandler
{
    ValueTask OnRequestTrailersAsync(ProxyContext context);
}

/// <summary>Response trailers phase: once, after the response body's end of stream, when the upstream sent trailers
/// and the client's protocol carries them (HTTP/2). They are in <c>IHttpResponseTrailersFeature.Trailers</c>, already
/// copied from the upstream, and may be changed before they go out.</summary>
public interface IResponseTrailersHandler : IPhaseHandler
{
    ValueTask OnResponseTrailersAsync(ProxyContext context);
}

/// <summary>Log phase: after the response has been sent (or failed); always runs, even after an exception.</summary>
public interface ILogHandler : IPhaseHandler
{
    ValueTask OnLogAsync(ProxyContext context);
}
