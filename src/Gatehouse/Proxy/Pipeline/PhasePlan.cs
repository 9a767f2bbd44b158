namespace Gatehouse.Proxy.Pipeline;

/// <summary>The ordered handlers for each phase of one route (or of the global plan), compiled once per
/// configuration snapshot and shared by every request on that route.</summary>
public sealed class PhasePlan
{
    public static PhasePlan Empty { get; } = new([], [], [], [], [], []);

    public IReadOnlyList<IRewriteHandler> Rewrite { get; }
    public IReadOnlyList<IAccessHandler> Access { get; }
    public IReadOnlyList<IRequestBodyHandler> RequestBody { get; }
    public IReadOnlyList<IResponseHeadersHandler> ResponseHeaders { get; }
    public IReadOnlyList<IResponseBodyHandler> ResponseBody { get; }
    public IReadOnlyList<ILogHandler> Log { get; }
    public IReadOnlyList<IRequestTrailersHandler> RequestTrailers { get; }
    public IReadOnlyList<IResponseTrailersHandler> ResponseTrailers { get; }

    public PhasePlan(IRewriteHandler[] rewrite, IAccessHandler[] access, IRequestBodyHandler[] requestBody,
        IResponseHeadersHandler[] responseHeaders, IResponseBodyHandler[] responseBody, ILogHandler[] log,
        IRequestTrailersHandler[]? requestTrailers = null, IResponseTrailersHandler[]? responseTrailers = null)
    {
        RequestTrailers = requestTrailers ?? [];
        ResponseTrailers = responseTrailers ?? [];
        Rewrite = rewrite;
        Access = access;
        RequestBody = requestBody;
        RequestBodyFilters = requestBody.Select(h => (Func<ProxyContext, BodyChunk, ValueTask<BodyOutcome>>)h.OnRequestBodyAsync).ToArray();
        ResponseBodyFilters = responseBody.Select(h => (Func<ProxyContext, BodyChunk, ValueTask<BodyOutcome>>)h.OnResponseBodyAsync).ToArray();
        ResponseHeaders = responseHeaders;
        ResponseBody = responseBody;
        Log = log;
        ResponseHeadersSkipBits = [.. responseHeaders.Select(h => h.SkipBits)];
        LogSkipBits = [.. log.Select(h => h.SkipBits)];
    }

    /// <summary>Each header_filter and log step's <see cref="IPhaseHandler.SkipBits"/>, read once here: the phase loops
    /// test a request's <see cref="ProxyContext.SkippedSteps"/> against them with no call into the step.</summary>
    internal ulong[] ResponseHeadersSkipBits { get; }
    internal ulong[] LogSkipBits { get; }

    public bool HasBodyHandlers => ResponseBody.Count > 0;
    public bool HasRequestBodyHandlers => RequestBody.Count > 0;
    /// <summary>The request body passes through <see cref="RequestBodyFilterStream"/> (body or trailer handlers).</summary>
    public bool ReadsRequestBody => RequestBody.Count > 0 || RequestTrailers.Count > 0;
    /// <summary>The body handlers as delegates, bound once per snapshot for <see cref="BodyFilterChain"/>.</summary>
    internal IReadOnlyList<Func<ProxyContext, BodyChunk, ValueTask<BodyOutcome>>> RequestBodyFilters { get; }
    internal IReadOnlyList<Func<ProxyContext, BodyChunk, ValueTask<BodyOutcome>>> ResponseBodyFilters { get; }
}
