using Gatehouse.Config;
using Gatehouse.Proxy.Tracing;

namespace Gatehouse.Proxy.Pipeline;

/// <summary>Runs the handlers of one phase in order. Exceptions propagate to the proxy, which answers 500 and
/// still runs the log phase. A request with a <see cref="ProxyContext.Debug"/> trace (Kong's request debugging: the
/// phase, <c>plugins</c> and our <c>filters</c> timings) or a <see cref="ProxyContext.Trace"/> (the opentelemetry
/// plugin: one span per plugin or filter step, <see cref="StepSpans"/>) takes the instrumented loop, which serves both;
/// every other request the plain one. Both pass over the header_filter and log steps a request marked skipped
/// (<see cref="ProxyContext.SkippedSteps"/>) without calling them.</summary>
internal static class PhaseRunner
{
    public static async ValueTask<PhaseOutcome> RewriteAsync(PhasePlan plan, ProxyContext context)
    {
        if (context.Debug is not null || context.Trace is not null)
            return await InstrumentedAsync(plan.Rewrite, context, "rewrite", debugPhase: true, static (h, c) => h.OnRewriteAsync(c));
        var handlers = plan.Rewrite; // indexed: foreach over the list's interface would allocate an enumerator per request
        for (var i = 0; i < handlers.Count; i++)
            if (await handlers[i].OnRewriteAsync(context) == PhaseOutcome.ShortCircuit) return PhaseOutcome.ShortCircuit;
        return PhaseOutcome.Continue;
    }

    /// <summary>The access handlers; the caller has the <c>access</c> debug span open (the router runs in it, as in Kong).</summary>
    /// <remarks>Like the other plain loops here, synchronous while every step completes at once (most steps of most
    /// requests: a filter whose guest call ran now, a plugin that did not wait): the loop awaits from the first step
    /// that did not.</remarks>
    public static ValueTask<PhaseOutcome> AccessAsync(PhasePlan plan, ProxyContext context)
    {
        if (context.Debug is not null || context.Trace is not null)
            return InstrumentedAsync(plan.Access, context, "access", debugPhase: false, static (h, c) => h.OnAccessAsync(c));
        if (context.PendingTrace.AheadOfSampler > 0) return AheadOfSamplerAsync(plan.Access, context);
        var handlers = plan.Access;
        for (var i = 0; i < handlers.Count; i++)
        {
            var step = handlers[i].OnAccessAsync(context);
            if (!step.IsCompletedSuccessfully) return AccessFromAsync(handlers, context, i, step);
            if (step.Result == PhaseOutcome.ShortCircuit) return new(PhaseOutcome.ShortCircuit);
        }
        return new(PhaseOutcome.Continue);
    }

    private static async ValueTask<PhaseOutcome> AccessFromAsync(IReadOnlyList<IAccessHandler> handlers, ProxyContext context, int from,
        ValueTask<PhaseOutcome> step)
    {
        if (await step == PhaseOutcome.ShortCircuit) return PhaseOutcome.ShortCircuit;
        for (var i = from + 1; i < handlers.Count; i++)
            if (await handlers[i].OnAccessAsync(context) == PhaseOutcome.ShortCircuit) return PhaseOutcome.ShortCircuit;
        return PhaseOutcome.Continue;
    }

    /// <summary>The sampler left the request out before the steps ahead of it ran (<see cref="PendingTrace.Defer"/>):
    /// they run untraced, their start times kept; the sampler then decides again on the headers they may have changed.
    /// Left out still, the rest runs untraced; sampled after all, the trace is made with the spans the steps ahead would
    /// have had, and the rest is traced.</summary>
    private static async ValueTask<PhaseOutcome> AheadOfSamplerAsync(IReadOnlyList<IAccessHandler> handlers, ProxyContext context)
    {
        var ahead = context.PendingTrace.AheadOfSampler;
        var starts = new long[ahead];
        for (var i = 0; i < ahead; i++)
        {
            starts[i] = context.Timings.Now();
            if (await handlers[i].OnAccessAsync(context) == PhaseOutcome.ShortCircuit) return PhaseOutcome.ShortCircuit;
        }
        if (((IUpfrontSampler)handlers[ahead]).LeavesOut(context, ahead: false))
        {
            context.PendingTrace.Drop();
            for (var i = ahead; i < handlers.Count; i++)
                if (await handlers[i].OnAccessAsync(context) == PhaseOutcome.ShortCircuit) return PhaseOutcome.ShortCircuit;
            return PhaseOutcome.Continue;
        }
        context.Trace = context.PendingTrace.Make(context.Timings, handlers, starts);
        return await InstrumentedAsync(handlers, context, "access", debugPhase: false, static (h, c) => h.OnAccessAsync(c), from: ahead);
    }

    public static ValueTask ResponseHeadersAsync(PhasePlan plan, ProxyContext context)
    {
        if (context.Debug is not null || context.Trace is not null) return InstrumentedResponseHeadersAsync(plan, context);
        var handlers = plan.ResponseHeaders;
        // a step the request passes over (ProxyContext.SkippedSteps, read per step: an earlier step may change it) costs
        // a test here, not a call into it
        var skipBits = plan.ResponseHeadersSkipBits;
        for (var i = 0; i < handlers.Count; i++)
        {
            if ((context.SkippedSteps & skipBits[i]) != 0) continue;
            var step = handlers[i].OnResponseHeadersAsync(context);
            if (!step.IsCompletedSuccessfully) return ResponseHeadersFromAsync(plan, context, i, step);
        }
        return default;
    }

    private static async ValueTask InstrumentedResponseHeadersAsync(PhasePlan plan, ProxyContext context)
    {
        await InstrumentedAsync(plan.ResponseHeaders, context, "header_filter", debugPhase: true,
            static async (h, c) => { await h.OnResponseHeadersAsync(c); return PhaseOutcome.Continue; }, skipBits: plan.ResponseHeadersSkipBits);
        // Kong sets the request-debug output header right after header_filter
        if (context.Debug is { } debug) RequestDebug.AddOutputHeader(debug, context);
    }

    private static async ValueTask ResponseHeadersFromAsync(PhasePlan plan, ProxyContext context, int from, ValueTask step)
    {
        await step;
        var handlers = plan.ResponseHeaders;
        var skipBits = plan.ResponseHeadersSkipBits;
        for (var i = from + 1; i < handlers.Count; i++)
            if ((context.SkippedSteps & skipBits[i]) == 0) await handlers[i].OnResponseHeadersAsync(context);
    }

    public static async ValueTask RequestTrailersAsync(PhasePlan plan, ProxyContext context)
    {
        var handlers = plan.RequestTrailers;
        for (var i = 0; i < handlers.Count; i++) await handlers[i].OnRequestTrailersAsync(context);
    }

    public static async ValueTask ResponseTrailersAsync(PhasePlan plan, ProxyContext context)
    {
        var handlers = plan.ResponseTrailers;
        for (var i = 0; i < handlers.Count; i++) await handlers[i].OnResponseTrailersAsync(context);
    }

    public static ValueTask LogAsync(PhasePlan plan, ProxyContext context, Action<IPhaseHandler, Exception> onError)
    {
        if (context.Debug is not null) return DebugLogAsync(plan, context, onError);
        var handlers = plan.Log;
        var skipBits = plan.LogSkipBits;
        for (var i = 0; i < handlers.Count; i++)
        {
            if ((context.SkippedSteps & skipBits[i]) != 0) continue;
            ValueTask step;
            try { step = handlers[i].OnLogAsync(context); }
            catch (Exception e)
            {
                onError(handlers[i], e);
                continue;
            }
            if (!step.IsCompletedSuccessfully) return LogFromAsync(plan, context, onError, i, step);
        }
        return default;
    }

    private static async ValueTask LogFromAsync(PhasePlan plan, ProxyContext context, Action<IPhaseHandler, Exception> onError,
        int from, ValueTask step)
    {
        var handlers = plan.Log;
        var skipBits = plan.LogSkipBits;
        try { await step; }
        catch (Exception e) { onError(handlers[from], e); }
        for (var i = from + 1; i < handlers.Count; i++)
        {
            if ((context.SkippedSteps & skipBits[i]) != 0) continue;
            try { await handlers[i].OnLogAsync(context); }
            catch (Exception e) { onError(handlers[i], e); }
        }
    }

    private static async ValueTask DebugLogAsync(PhasePlan plan, ProxyContext context, Action<IPhaseHandler, Exception> onError)
    {
        var debug = context.Debug;
        debug?.Enter("log");
        var handlers = plan.Log;
        var skipped = context.SkippedSteps;
        var skipBits = plan.LogSkipBits;
        for (var i = 0; i < handlers.Count; i++)
        {
            if ((skipped & skipBits[i]) != 0) continue;
            var h = handlers[i];
            var opened = debug?.EnterHandler(h, "log", context) ?? 0;
            try { await h.OnLogAsync(context); }
            catch (Exception e) { onError(h, e); }
            finally { debug?.LeaveHandler(opened); }
        }
        debug?.Leave();
    }

    /// <param name="debugPhase">open the phase's own debug span (access has it open already, around the router)</param>
    private static async ValueTask<PhaseOutcome> InstrumentedAsync<THandler>(IReadOnlyList<THandler> handlers, ProxyContext context,
        string phase, bool debugPhase, Func<THandler, ProxyContext, ValueTask<PhaseOutcome>> run, int from = 0, ulong[]? skipBits = null)
        where THandler : IPhaseHandler
    {
        var debug = context.Debug;
        if (debugPhase) debug?.Enter(phase);
        try
        {
            for (var i = from; i < handlers.Count; i++)
            {
                if (skipBits is not null && (context.SkippedSteps & skipBits[i]) != 0) continue;
                var h = handlers[i];
                // read per step: the opentelemetry plugin drops the trace of a request it does not sample
                var trace = context.Trace;
                var opened = debug?.EnterHandler(h, phase, context) ?? 0;
                var span = trace is null ? null : StepSpans.Open(trace, h, phase);
                var outcome = PhaseOutcome.Continue;
                try { outcome = await run(h, context); }
                catch (Exception e) { StepSpans.Failed(span, e); throw; }
                finally
                {
                    if (trace is not null) StepSpans.Close(trace, span);
                    debug?.LeaveHandler(opened);
                }
                if (outcome == PhaseOutcome.ShortCircuit) return PhaseOutcome.ShortCircuit;
            }
            return PhaseOutcome.Continue;
        }
        finally { if (debugPhase) debug?.Leave(); }
    }
}

/// <summary>
/// The span of one step: Kong's <c>kong.&lt;phase&gt;.plugin.&lt;name&gt;</c> for a plugin. Core steps get none; a
/// Proxy-Wasm filter's spans are its callbacks' (<c>Wasm/FilterCallbackSpans</c>), timed around each guest call.
/// </summary>
internal static class StepSpans
{
    public static TraceSpan? Open(RequestTrace trace, IPhaseHandler handler, string phase)
    {
        TraceSpan? span = handler.Kind switch
        {
            "plugin" when trace.Traces(phase switch
            {
                "rewrite" => TracedSteps.PluginRewrite,
                "access" => TracedSteps.PluginAccess,
                _ => TracedSteps.PluginHeaderFilter,
            }) => trace.Open(handler.TraceSpanName(phase)),
            _ => null,
        };
        trace.Current = span;
        return span;
    }

    public static void Failed(TraceSpan? span, Exception e)
    {
        if (span is not null) span.Error ??= e.Message;
    }

    public static void Close(RequestTrace trace, TraceSpan? span)
    {
        trace.Current = null;
        if (span is null) return;
        RequestTrace.Close(span);
    }
}
