namespace Gatehouse.Proxy.Pipeline;

/// <summary>Runs the handlers of one phase in order. Exceptions propagate to the proxy, which answers 500 and
/// still runs the log phase. A request with a <see cref="ProxyContext.Debug"/> trace takes the timed loops
/// (Kong's phase, <c>plugins</c> and our <c>filters</c> spans); every other request the plain ones.</summary>
internal static class PhaseRunner
{
    public static async ValueTask<PhaseOutcome> RewriteAsync(PhasePlan plan, ProxyContext context)
    {
        if (context.Debug is { } debug) return await TimedRewriteAsync(plan, context, debug);
        foreach (var h in plan.Rewrite)
            if (await h.OnRewriteAsync(context) == PhaseOutcome.ShortCircuit) return PhaseOutcome.ShortCircuit;
        return PhaseOutcome.Continue;
    }

    /// <summary>The access handlers; the caller has the <c>access</c> span open (the router runs in it, as in Kong).</summary>
    public static async ValueTask<PhaseOutcome> AccessAsync(PhasePlan plan, ProxyContext context)
    {
        if (context.Debug is { } debug) return await TimedAccessAsync(plan, context, debug);
        foreach (var h in plan.Access)
            if (await h.OnAccessAsync(context) == PhaseOutcome.ShortCircuit) return PhaseOutcome.ShortCircuit;
        return PhaseOutcome.Continue;
    }

    public static async ValueTask ResponseHeadersAsync(PhasePlan plan, ProxyContext context)
    {
        if (context.Debug is { } debug)
        {
            await TimedResponseHeadersAsync(plan, context, debug);
            return;
        }
        foreach (var h in plan.ResponseHeaders) await h.OnResponseHeadersAsync(context);
    }

    public static async ValueTask RequestTrailersAsync(PhasePlan plan, ProxyContext context)
    {
        foreach (var h in plan.RequestTrailers) await h.OnRequestTrailersAsync(context);
    }

    public static async ValueTask ResponseTrailersAsync(PhasePlan plan, ProxyContext context)
    {
        foreach (var h in plan.ResponseTrailers) await h.OnResponseTrailersAsync(context);
    }

    public static async ValueTask LogAsync(PhasePlan plan, ProxyContext context, Action<IPhaseHandler, Exception> onError)
    {
        var debug = context.Debug;
        debug?.Enter("log");
        foreach (var h in plan.Log)
        {
            var opened = debug?.EnterHandler(h, "log", context) ?? 0;
            try { await h.OnLogAsync(context); }
            catch (Exception e) { onError(h, e); }
            finally { debug?.LeaveHandler(opened); }
        }
        debug?.Leave();
    }

    private static async ValueTask<PhaseOutcome> TimedRewriteAsync(PhasePlan plan, ProxyContext context, RequestDebugTrace debug)
    {
        debug.Enter("rewrite");
        try
        {
            foreach (var h in plan.Rewrite)
            {
                var opened = debug.EnterHandler(h, "rewrite", context);
                try { if (await h.OnRewriteAsync(context) == PhaseOutcome.ShortCircuit) return PhaseOutcome.ShortCircuit; }
                finally { debug.LeaveHandler(opened); }
            }
            return PhaseOutcome.Continue;
        }
        finally { debug.Leave(); }
    }

    private static async ValueTask<PhaseOutcome> TimedAccessAsync(PhasePlan plan, ProxyContext context, RequestDebugTrace debug)
    {
        foreach (var h in plan.Access)
        {
            var opened = debug.EnterHandler(h, "access", context);
            try { if (await h.OnAccessAsync(context) == PhaseOutcome.ShortCircuit) return PhaseOutcome.ShortCircuit; }
            finally { debug.LeaveHandler(opened); }
        }
        return PhaseOutcome.Continue;
    }

    /// <summary>The header_filter span, then the output header (Kong sets it right after header_filter).</summary>
    private static async ValueTask TimedResponseHeadersAsync(PhasePlan plan, ProxyContext context, RequestDebugTrace debug)
    {
        debug.Enter("header_filter");
        try
        {
            foreach (var h in plan.ResponseHeaders)
            {
                var opened = debug.EnterHandler(h, "header_filter", context);
                try { await h.OnResponseHeadersAsync(context); }
                finally { debug.LeaveHandler(opened); }
            }
        }
        finally { debug.Leave(); }
        RequestDebug.AddOutputHeader(debug, context);
    }
}
