namespace Gatehouse.Proxy.Pipeline;

/// <summary>Runs the handlers of one phase in order. Exceptions propagate to the proxy, which answers 500 and
/// still runs the log phase.</summary>
internal static class PhaseRunner
{
    public static async ValueTask<PhaseOutcome> RewriteAsync(PhasePlan plan, ProxyContext context)
    {
        foreach (var h in plan.Rewrite)
            if (await h.OnRewriteAsync(context) == PhaseOutcome.ShortCircuit) return PhaseOutcome.ShortCircuit;
        return PhaseOutcome.Continue;
    }

    public static async ValueTask<PhaseOutcome> AccessAsync(PhasePlan plan, ProxyContext context)
    {
        foreach (var h in plan.Access)
            if (await h.OnAccessAsync(context) == PhaseOutcome.ShortCircuit) return PhaseOutcome.ShortCircuit;
        return PhaseOutcome.Continue;
    }

    public static async ValueTask ResponseHeadersAsync(PhasePlan plan, ProxyContext context)
    {
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
        foreach (var h in plan.Log)
        {
            try { await h.OnLogAsync(context); }
            catch (Exception e) { onError(h, e); }
        }
    }
}
