namespace Gatehouse.Proxy.Pipeline;

/// <summary>Collects handlers for one plan. <see cref="Add"/> files a handler under every phase interface it
/// implements, keeping the order of calls (contributors order themselves, e.g. by plugin priority).</summary>
public sealed class PhasePlanBuilder
{
    private readonly List<IRewriteHandler> _rewrite = [];
    private readonly List<IAccessHandler> _access = [];
    private readonly List<IRequestBodyHandler> _requestBody = [];
    private readonly List<IResponseHeadersHandler> _headers = [];
    private readonly List<IResponseBodyHandler> _body = [];
    private readonly List<ILogHandler> _log = [];
    private readonly List<IRequestTrailersHandler> _requestTrailers = [];
    private readonly List<IResponseTrailersHandler> _responseTrailers = [];

    public PhasePlanBuilder Add(IPhaseHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (handler is IRewriteHandler r) _rewrite.Add(r);
        if (handler is IAccessHandler a) _access.Add(a);
        if (handler is IRequestBodyHandler rb) _requestBody.Add(rb);
        if (handler is IResponseHeadersHandler h) _headers.Add(h);
        if (handler is IResponseBodyHandler b) _body.Add(b);
        if (handler is ILogHandler l) _log.Add(l);
        if (handler is IRequestTrailersHandler rt) _requestTrailers.Add(rt);
        if (handler is IResponseTrailersHandler t) _responseTrailers.Add(t);
        return this;
    }

    public PhasePlan Build() =>
        _rewrite.Count + _access.Count + _requestBody.Count + _headers.Count + _body.Count + _log.Count
            + _requestTrailers.Count + _responseTrailers.Count == 0
            ? PhasePlan.Empty
            : new PhasePlan([.. _rewrite], [.. _access], [.. _requestBody], [.. _headers], [.. _body], [.. _log],
                [.. _requestTrailers], [.. _responseTrailers]);
}
