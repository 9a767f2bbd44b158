using Gatehouse.Config;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Proxy.Tracing;

/// <summary>
/// A request's trace before anything of it is made: which steps to record, and when the request (Kong's <c>kong</c>
/// span) and the router started and ended. The proxy makes the <see cref="RequestTrace"/> from it (<see cref="Make"/>)
/// before the first step that could record a span, unless the sampler decided first that the request is not sampled
/// (<see cref="IUpfrontSampler"/>): an unsampled request then makes nothing trace-shaped at all. A field of the
/// request's context, so it costs no allocation.
/// </summary>
internal struct PendingTrace
{
    private DateTime _start, _routerStart, _routerEnd;

    /// <summary>None once made or dropped (or when the request is not traced).</summary>
    public TracedSteps Steps { readonly get; private set; }
    public readonly bool IsPending => Steps != TracedSteps.None;

    public void Begin(TracedSteps steps)
    {
        Steps = steps;
        _start = DateTime.UtcNow;
    }

    public void RouterStarted()
    {
        if ((Steps & TracedSteps.Router) != 0) _routerStart = DateTime.UtcNow;
    }

    public void RouterEnded()
    {
        if ((Steps & TracedSteps.Router) != 0) _routerEnd = DateTime.UtcNow;
    }

    /// <summary>The trace, with the spans it would have had so far (the request's, the router's).</summary>
    public RequestTrace Make()
    {
        var trace = new RequestTrace(Steps, _start);
        if (_routerEnd != default) trace.Add("kong.router", _routerStart, _routerEnd);
        Steps = TracedSteps.None;
        return trace;
    }

    /// <summary>The sampler left the request out: no trace is made.</summary>
    public void Drop() => Steps = TracedSteps.None;
}

/// <summary>
/// An access step that can take the request's sampling decision before it runs: the opentelemetry plugin when it is
/// the first access step, so nothing that runs before it can change the request headers it extracts from. The
/// decision (<see cref="UpfrontSampling"/>) is the one its step would take, and the step uses it.
/// </summary>
internal interface IUpfrontSampler
{
    /// <returns>whether the request is not sampled (it then records no trace)</returns>
    bool LeavesOut(ProxyContext context);
}

/// <summary>A sampling decision taken before the step that owns it ran: the trace id decided on, what the sampler
/// extracted from the request (the exporter's own type), the decision, and the steps the trace would have recorded.</summary>
internal readonly record struct UpfrontSampling(UInt128 TraceId, object? Extracted, bool Sampled, TracedSteps Steps);
