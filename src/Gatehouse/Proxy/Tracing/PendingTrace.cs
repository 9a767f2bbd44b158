using System.Runtime.InteropServices;
using Gatehouse.Config;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Proxy.Tracing;

/// <summary>
/// A request's trace before anything of it is made: which steps to record, when the router ran, and a sampling
/// decision taken early. The proxy makes the <see cref="RequestTrace"/> from it (<see cref="Make"/>) before the first
/// step that could record a span, unless the sampler decided first that the request is not sampled
/// (<see cref="IUpfrontSampler"/>): an unsampled request then makes nothing trace-shaped at all. A field of the
/// request's context, so it costs no allocation; times are the context's timestamps, turned into wall-clock time only
/// when the trace is made.
/// </summary>
[StructLayout(LayoutKind.Auto)] // every proxied request's context carries it: no padding for field order
internal struct PendingTrace
{
    private long _routerStart, _routerEnd;
    // the decided trace id as two halves: a UInt128 field is 16-byte aligned and would pad the context
    private ulong _traceHigh, _traceLow;
    private bool _pending;

    /// <summary>The steps the trace records (<c>tracing_instrumentations</c>); None when the request is not traced.</summary>
    public TracedSteps Steps { readonly get; private set; }
    /// <summary>Neither made nor left out yet.</summary>
    public readonly bool IsPending => _pending;
    /// <summary>The decision an <see cref="IUpfrontSampler"/> took before its step ran (null: none did), the trace id it
    /// was taken on and what it extracted from the request (the sampler's own type); its step uses them.</summary>
    public bool? Sampled { readonly get; private set; }
    public readonly UInt128 TraceId => new(_traceHigh, _traceLow);
    public object? Extracted { readonly get; private set; }

    public void Begin(TracedSteps steps)
    {
        Steps = steps;
        _pending = true;
    }

    public void RouterStarted(ProxyTimings timings)
    {
        if (_pending && (Steps & TracedSteps.Router) != 0) _routerStart = timings.Now();
    }

    public void RouterEnded(ProxyTimings timings)
    {
        if (_pending && (Steps & TracedSteps.Router) != 0) _routerEnd = timings.Now();
    }

    /// <summary>The trace, with the spans it would have had so far: the request's (from the request's start), the
    /// router's.</summary>
    public RequestTrace Make(ProxyTimings timings) => Make(timings, [], []);

    /// <summary>The trace made in the access phase after the steps ahead of the sampler ran untraced
    /// (<see cref="Defer"/>), with the spans the instrumented loop would have given them: a plugin step's from its
    /// start to the next step's (the last one's to now).</summary>
    /// <param name="starts">when each step ahead started</param>
    public RequestTrace Make(ProxyTimings timings, IReadOnlyList<IAccessHandler> ahead, ReadOnlySpan<long> starts)
    {
        _pending = false;
        AheadOfSampler = 0;
        var now = timings.Now();
        var wallNow = DateTime.UtcNow;
        DateTime At(long timestamp) => wallNow - timings.Elapsed(timestamp, now);
        var trace = new RequestTrace(Steps, At(timings.Start));
        if (_routerEnd != 0) trace.Add("kong.router", At(_routerStart), At(_routerEnd));
        if (!trace.Traces(TracedSteps.PluginAccess)) return trace;
        for (var i = 0; i < starts.Length; i++)
            if (ahead[i].Kind == "plugin")
                trace.Add(ahead[i].TraceSpanName("access"), At(starts[i]), At(i + 1 < starts.Length ? starts[i + 1] : now));
        return trace;
    }

    /// <summary>Records a sampler's early decision (<see cref="IUpfrontSampler"/>).</summary>
    public void Decide(bool sampled, UInt128 traceId, object? extracted)
    {
        Sampled = sampled;
        _traceHigh = (ulong)(traceId >> 64);
        _traceLow = (ulong)traceId;
        Extracted = extracted;
    }

    /// <summary>Forgets an early decision: the sampler's step decides itself, on the headers it then sees.</summary>
    public void Undecide()
    {
        Sampled = null;
        Extracted = null;
    }

    /// <summary>The sampler left the request out: no trace is made.</summary>
    public void Drop()
    {
        _pending = false;
        AheadOfSampler = 0;
    }

    /// <summary>The sampler, <paramref name="ahead"/> steps into the access phase, left the request out on the headers
    /// as they are before those steps run, and a request ended by one of them would not be sampled either. The steps
    /// ahead run untraced (only their start times are kept); the sampler decides again before its own step, on the
    /// headers they may have changed, and only a request it samples then gets its trace (<see cref="Make(ProxyTimings,
    /// IReadOnlyList{IAccessHandler}, ReadOnlySpan{long})"/>).</summary>
    public void Defer(int ahead)
    {
        _pending = false;
        AheadOfSampler = ahead;
    }

    /// <summary>How many access steps run before the sampler decides again (<see cref="Defer"/>); 0: none.</summary>
    public int AheadOfSampler { readonly get; private set; }
}

/// <summary>
/// An access step that can take the request's sampling decision before it runs: the opentelemetry plugin. As the first
/// access step nothing that runs before it can change the request headers it extracts from, and its decision
/// (<see cref="PendingTrace.Decide"/>) is the one its step takes. With steps ahead of it (<c>ahead</c> in
/// <see cref="LeavesOut"/>), the decision is taken again right before its step (<see cref="PendingTrace.Defer"/>).
/// </summary>
internal interface IUpfrontSampler
{
    /// <summary>Whether this step samples at all (a plugin step's instance may not be a sampler).</summary>
    bool DecidesSampling { get; }

    /// <param name="ahead">steps run before this one: the instance that applies must not depend on what they do (the
    /// consumer), and a request one of them ends must not be sampled either (it would be traced at
    /// <c>tracing_sampling_rate</c>)</param>
    /// <returns>whether the request is not sampled (it then records no trace)</returns>
    bool LeavesOut(ProxyContext context, bool ahead);
}
